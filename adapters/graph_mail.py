"""Outgoing email through Microsoft Graph `sendMail`: a `domain.mail.delivery.Transport`.

    transport = GraphMailTransport(config, tenant_id=operator_tenant, sender="partner-center@ops.example")
    await transport.send(queued_mail)      # POST /v1.0/users/{sender}/sendMail
    await transport.aclose()

The service signs in to its own (operator) tenant with MSAL client credentials (`adapters.graph`)
and sends as the mailbox `sender`, which needs the `Mail.Send` application permission. Graph's
answer decides what the outbox does next, as an SMTP reply would:

    4xx about the message (400, 413, 422 ...)      PermanentDeliveryError: the message is dead
    401, 403, 404 (sender), no token, no answer    TemporaryDeliveryError: our configuration or the
    408, 429, 5xx, timeouts                        network, retried with back-off
A short `Retry-After` (throttling) is waited out once in place; a longer one is left to back-off.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from adapters.errors import GraphError
from adapters.graph import GraphClient, GraphConfig, GraphMessage
from adapters.msal_http import MsalHttpClient
from domain.errors import DeliveryError, PermanentDeliveryError, TemporaryDeliveryError
from domain.mail.outbox import QueuedMail

# Graph's answers that are about our set-up, not this message: retried until an operator fixes it.
CONFIGURATION_STATUSES = frozenset({401, 403, 404})
RETRIED_STATUSES = frozenset({408, 409, 423, 429})
MAX_RETRY_AFTER_WAIT = 30.0

Clients = Callable[[], tuple[httpx.AsyncClient, MsalHttpClient]]


@dataclass(frozen=True)
class GraphEmail(GraphMessage):
    """A `GraphMessage` that keeps the queued Message-ID, so every retry is the same message."""

    internet_message_id: str | None = None

    def as_graph(self) -> dict[str, Any]:
        body = super().as_graph()
        if self.internet_message_id:
            body["message"]["internetMessageId"] = self.internet_message_id
        return body


def graph_email(mail: QueuedMail) -> GraphEmail:
    """The queued mail as Graph's message: the HTML body when there is one, else the text."""
    html = bool(mail.body_html)
    return GraphEmail(
        subject=mail.subject,
        body=mail.body_html if mail.body_html else mail.body_text,
        to=[mail.to_address] if mail.to_address else [],
        content_type="HTML" if html else "Text",
        internet_message_id=mail.message_id or None,
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

    async def send(self, mail: QueuedMail) -> None:
        """Hand `mail` to Graph; raise a `DeliveryError` saying whether to retry."""
        email = graph_email(mail)
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
