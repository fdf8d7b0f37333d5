"""Outgoing email over SMTP (aiosmtplib): a `domain.mail.delivery.Transport`.

    transport = SmtpTransport(SmtpSettings(host="mail.example", port=587, starttls=True), mail_from=...)
    await transport.send(queued_mail)      # one connection per message

The server's answer decides what the outbox does next: a 5xx to the recipient or the data is a
`PermanentDeliveryError` (the message is dead), everything else a `TemporaryDeliveryError`.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib

from domain.errors import DeliveryError, PermanentDeliveryError, TemporaryDeliveryError
from domain.mail.outbox import DEFAULT_MAX_ATTEMPTS, QueuedMail


@dataclass(frozen=True)
class SmtpSettings:
    """The mail server and how hard to try."""

    host: str
    port: int = 25
    starttls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    max_attempts: int = DEFAULT_MAX_ATTEMPTS


def compose_email(mail: QueuedMail, mail_from: str) -> EmailMessage:
    """The queued row as an email: plain text, plus an HTML alternative when the row has one.

    Message-ID and Date come from the row, so every retry is the same message to a receiver.
    """
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    message["Message-ID"] = mail.message_id
    message["Date"] = format_datetime(mail.created_at)
    message.set_content(mail.body_text)
    if mail.body_html:
        message.add_alternative(mail.body_html, subtype="html")
    return message


class SmtpTransport:
    """Sends each message on its own connection: STARTTLS and login when configured.

    `tls_context` replaces the system trust store (a private CA, or a test server's certificate).
    """

    def __init__(
        self, server: SmtpSettings, *, mail_from: str, tls_context: ssl.SSLContext | None = None
    ) -> None:
        self._server = server
        self._mail_from = mail_from
        self._tls_context = tls_context

    async def send(self, mail: QueuedMail) -> None:
        """Hand `mail` to the server; raise a `DeliveryError` saying whether to retry."""
        server = self._server
        try:
            # Each message has one recipient, so a refusal always raises: there are no partial sends.
            await aiosmtplib.send(
                compose_email(mail, self._mail_from),
                hostname=server.host,
                port=server.port,
                start_tls=server.starttls,
                username=server.username,
                password=server.password,
                timeout=server.timeout,
                tls_context=self._tls_context,
            )
        except (aiosmtplib.SMTPException, OSError) as error:
            raise classify_smtp_error(error) from error

    async def aclose(self) -> None:
        """Nothing to close: every message has its own connection."""


def classify_smtp_error(error: Exception) -> DeliveryError:
    """Permanent only when the server refused this message for good (5xx to RCPT or DATA).

    Everything else is retried: no connection, timeouts, 4xx, and 5xx to HELO, AUTH or MAIL FROM,
    which mean our configuration is wrong and would fail every message until an operator fixes it.
    """
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        reply = "; ".join(f"{r.code} {r.message} <{r.recipient}>" for r in error.recipients)
        if error.recipients and all(_is_permanent(r.code) for r in error.recipients):
            return PermanentDeliveryError(reply)
        return TemporaryDeliveryError(reply)
    if isinstance(error, aiosmtplib.SMTPResponseException):
        reply = f"{error.code} {error.message}"
        if isinstance(error, aiosmtplib.SMTPDataError) and _is_permanent(error.code):
            return PermanentDeliveryError(reply)
        return TemporaryDeliveryError(reply)
    return TemporaryDeliveryError(f"{type(error).__name__}: {error}")


def _is_permanent(code: int) -> bool:
    return 500 <= code < 600
