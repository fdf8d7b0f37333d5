"""The outside world behind small protocols: Microsoft Graph, SMTP, the event bus, background loops.

Each adapter satisfies a protocol that the domain (or the composition root in `api`) defines, so
the business never names a library or a network; `api.composition` picks and wires them.
"""
