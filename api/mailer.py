"""Outgoing email over SMTP (aiosmtplib), and the delivery loop built from the settings.

`delivery_from_settings(settings, sessions, clock)` is what `serve` wires in: None when no
INCENTIVES_SMTP_HOST is set (mail stays queued), else an `OutboxDelivery` to `start()` on
startup and `await stop()` on shutdown. With INCENTIVES_MAIL_TRANSPORT=graph the loop sends
through Microsoft Graph instead (`api.mail_graph`).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import TYPE_CHECKING

import aiosmtplib
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.mail_delivery import OutboxDelivery
from api.mail_errors import DeliveryError, PermanentDeliveryError, TemporaryDeliveryError
from api.mail_graph import GraphOutboxDelivery, graph_transport
from domain.clock import Clock
from domain.outbox import DEFAULT_MAX_ATTEMPTS

if TYPE_CHECKING:
    from api.settings import Settings


class SmtpTransport:
    """Sends each message on its own connection: STARTTLS and login when configured.

    `tls_context` replaces the system trust store (a private CA, or a test server's certificate).
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self._host = host
        self._port = port
        self._starttls = starttls
        self._username = username
        self._password = password
        self._timeout = timeout
        self._tls_context = tls_context

    async def send(self, message: EmailMessage) -> None:
        """Hand `message` to the server; raise a `DeliveryError` saying whether to retry."""
        try:
            # Each message has one recipient, so a refusal always raises: there are no partial sends.
            await aiosmtplib.send(
                message,
                hostname=self._host,
                port=self._port,
                start_tls=self._starttls,
                username=self._username,
                password=self._password,
                timeout=self._timeout,
                tls_context=self._tls_context,
            )
        except (aiosmtplib.SMTPException, OSError) as error:
            raise classify_smtp_error(error) from error


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


@dataclass(frozen=True)
class SmtpSettings:
    """The mail server and how hard to try, read once from the settings."""

    host: str
    port: int = 25
    starttls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    max_attempts: int = DEFAULT_MAX_ATTEMPTS

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpSettings | None:
        """None when INCENTIVES_SMTP_HOST is unset: mail stays queued."""
        if not settings.smtp_host:
            return None
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            starttls=settings.smtp_starttls,
            username=settings.smtp_username or None,
            password=_secret(settings.smtp_password),
            timeout=settings.smtp_timeout,
            max_attempts=settings.mail_max_attempts,
        )

    def transport(self) -> SmtpTransport:
        return SmtpTransport(
            self.host,
            self.port,
            starttls=self.starttls,
            username=self.username,
            password=self.password,
            timeout=self.timeout,
        )


def delivery_from_settings(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> OutboxDelivery | None:
    """The outbox delivery loop for `serve`, or None when no mail server is configured.

    INCENTIVES_MAIL_TRANSPORT=graph sends through Microsoft Graph instead, and then a missing
    setting is a `GraphMailNotConfigured` (a `ValueError`): the app does not start half-configured.
    """
    if settings.mail_transport == "graph":
        transport = graph_transport(settings)
        return GraphOutboxDelivery(
            sessions,
            transport,
            settings.mail_from,
            clock=clock,
            max_attempts=settings.mail_max_attempts,
            lease_seconds=settings.mail_lease_seconds,
        )
    smtp = SmtpSettings.from_settings(settings)
    if smtp is None:
        return None
    return OutboxDelivery(
        sessions,
        smtp.transport(),
        settings.mail_from,
        clock=clock,
        max_attempts=smtp.max_attempts,
        lease_seconds=settings.mail_lease_seconds,
    )


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() or None if value is not None else None
