"""How a delivery attempt can fail, as the outbox needs to know it.

    DeliveryError
    ├── TemporaryDeliveryError   retry later with back-off (connection, timeout, 4xx, configuration)
    └── PermanentDeliveryError   give up now: the server refused this message for good (5xx)

`str(error)` is the server's reply or the cause, kept as the message's last error.
"""

from __future__ import annotations


class DeliveryError(Exception):
    """A message was not accepted by the mail server."""


class TemporaryDeliveryError(DeliveryError):
    """Worth trying again later: the server was unreachable, slow, or asked us to come back."""


class PermanentDeliveryError(DeliveryError):
    """Not worth trying again: the server refused the message or its recipient for good."""
