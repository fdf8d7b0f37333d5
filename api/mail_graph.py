"""Outgoing email through Microsoft Graph `sendMail` (INCENTIVES_MAIL_TRANSPORT=graph).

    transport = GraphMailTransport(GraphConfig.from_settings(settings), tenant_id=..., sender=...)
    await transport.send(email_message)      # POST /v1.0/users/{sender}/sendMail
    await transport.aclose()

The service signs in to its own (operator) tenant with MSAL client credentials (`auth.graph`) and
sends as the mailbox `sender`, which needs the `Mail.Send` application permission. Graph's answer
decides what the outbox does next, as an SMTP reply would:

    4xx about the message (400, 413, 422 ...)      PermanentDeliveryError: the message is dead
    401, 403, 404 (sender), no token, no answer    TemporaryDeliveryError: our configuration or the
    408, 429, 5xx, timeouts                        network, retried with back-off
A short `Retry-After` (throttling) is waited out once in place; a longer one is left to back-off.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.mail_delivery import OutboxDelivery
from api.mail_errors import DeliveryError, PermanentDeliveryError, TemporaryDeliveryError
from auth.graph import GraphClient, GraphConfig, GraphError, GraphMessage
from auth.msal_http import MsalHttpClient
from domain.clock import Clock
from domain.outbox import DEFAULT_LEASE_SECONDS

if TYPE_CHECKING:
    from api.settings import Settings

# Graph's answers that are about our set-up, not this message: retried until an operator fixes it.
CONFIGURATION_STATUSES = frozenset({401, 403, 404})
RETRIED_STATUSES = frozenset({408, 409, 423, 429})
MAX_RETRY_AFTER_WAIT = 30.0

Clients = Callable[[], tuple[httpx.AsyncClient, MsalHttpClient]]


class GraphMailNotConfigured(ValueError):
    """INCENTIVES_MAIL_TRANSPORT=graph without what Graph needs; `serve` refuses to start."""


@dataclass(frozen=True)
class GraphEmail(GraphMessage):
    """A `GraphMessage` that keeps the queued Message-ID, so every retry is the same message."""

    internet_message_id: str | None = None

    def as_graph(self) -> dict[str, Any]:
        body = super().as_graph()
        if self.internet_message_id:
            body["message"]["internetMessageId"] = self.internet_message_id
        return body


def graph_email(message: EmailMessage) -> GraphEmail:
    """The composed email as Graph's message: the HTML alternative when there is one, else the text."""
    part = message.get_body(preferencelist=("html", "plain"))
    html = part is not None and part.get_content_type() == "text/html"
    content = part.get_content() if part is not None else ""
    return GraphEmail(
        subject=str(message["Subject"] or ""),
        body=content,
        to=[address for _, address in getaddresses(message.get_all("To", [])) if address],
        content_type="HTML" if html else "Text",
        internet_message_id=str(message["Message-ID"]) if message["Message-ID"] else None,
    )


def classify_graph_error(error: GraphError) -> DeliveryError:
    """Permanent only when Graph refused this message (a 4xx that is not about our set-up)."""
    status = error.status
    if status is None or status >= 500 or status in CONFIGURATION_STATUSES or status in RETRIED_STATUSES:
        return TemporaryDeliveryError(str(error))
    return PermanentDeliveryError(str(error))


def default_clients(timeout: float = 30.0) -> tuple[httpx.AsyncClient, MsalHttpClient]:
    return httpx.AsyncClient(timeout=timeout, trust_env=False), MsalHttpClient()


class GraphMailTransport:
    """Sends each message with one `sendMail` call; the HTTP clients open on first use."""

    def __init__(
        self,
        config: GraphConfig,
        *,
        tenant_id: str,
        sender: str,
        clients: Clients = default_clients,
        max_retry_after_wait: float = MAX_RETRY_AFTER_WAIT,
    ) -> None:
        self._config = config
        self._tenant_id = tenant_id
        self._sender = sender
        self._clients = clients
        self._max_wait = max_retry_after_wait
        self._open: tuple[GraphClient, httpx.AsyncClient, MsalHttpClient] | None = None

    async def send(self, message: EmailMessage) -> None:
        """Hand `message` to Graph; raise a `DeliveryError` saying whether to retry."""
        email = graph_email(message)
        try:
            await self._send_once_more_if_throttled(email)
        except GraphError as error:
            raise classify_graph_error(error) from error

    async def aclose(self) -> None:
        """Close the HTTP clients (a later `send` opens new ones)."""
        opened, self._open = self._open, None
        if opened is not None:
            _, http, msal_http = opened
            await http.aclose()
            await asyncio.to_thread(msal_http.close)

    async def _send_once_more_if_throttled(self, email: GraphEmail) -> None:
        try:
            await self._graph().send_mail(self._tenant_id, self._sender, email)
        except GraphError as error:
            wait = error.retry_after
            if wait is None or wait > self._max_wait or error.status not in (429, 503):
                raise
            await asyncio.sleep(wait)
            await self._graph().send_mail(self._tenant_id, self._sender, email)

    def _graph(self) -> GraphClient:
        if self._open is None:
            http, msal_http = self._clients()
            self._open = (GraphClient(self._config, http, msal_http=msal_http), http, msal_http)
        return self._open[0]


class GraphOutboxDelivery(OutboxDelivery):
    """The outbox delivery loop over Graph: stopping it also closes the transport's HTTP clients."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        transport: GraphMailTransport,
        mail_from: str,
        *,
        clock: Clock,
        max_attempts: int,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> None:
        super().__init__(
            sessions,
            transport,
            mail_from,
            clock=clock,
            max_attempts=max_attempts,
            lease_seconds=lease_seconds,
        )
        self._graph_transport = transport

    async def stop(self) -> None:
        try:
            await super().stop()
        finally:
            await self._graph_transport.aclose()


def graph_transport(settings: Settings, *, clients: Clients = default_clients) -> GraphMailTransport:
    """The transport for INCENTIVES_MAIL_TRANSPORT=graph; `GraphMailNotConfigured` says what is missing.

    Sends as INCENTIVES_MAIL_SENDER_USER in the operator tenant (AZURE_TENANT_ID), signed in with
    AZURE_CLIENT_ID and its secret or certificate.
    """
    config = GraphConfig.from_settings(settings)
    tenant_id, sender = settings.azure_tenant_id, settings.mail_sender_user
    missing = [
        name
        for name, value in (
            ("AZURE_CLIENT_ID", config.client_id),
            ("AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH", config.credential),
            ("AZURE_TENANT_ID", tenant_id),
            ("INCENTIVES_MAIL_SENDER_USER", sender),
        )
        if not value
    ]
    if missing:
        raise GraphMailNotConfigured(
            f"INCENTIVES_MAIL_TRANSPORT=graph needs {', '.join(missing)} to send mail through Microsoft Graph"
        )
    assert tenant_id is not None
    assert sender is not None
    return GraphMailTransport(config, tenant_id=tenant_id, sender=sender, clients=clients)
