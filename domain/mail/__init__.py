"""Outgoing email, from the words to the hand-over: everything but the wire.

    texts       the emails' words in English, French and Swedish; which language a country suggests
    messages    the composed emails (invitations, tax expiry reminders) and their outbox rows
    recipients  who an invitation email goes to
    reminders   queueing the tax expiry reminders (set-based, safe from several processes)
    outbox      the queue's storage: claim due messages, record each outcome, requeue dead letters
    delivery    one delivery round through a `Transport` (SMTP or Microsoft Graph, in `adapters`)

Mail is queued in the transaction of the change that causes it and delivered at least once.
"""
