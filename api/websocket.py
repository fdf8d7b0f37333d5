"""Subscriptions over a websocket at /graphql: graphql-transport-ws only, authenticated in connection_init.

    ws = connect("ws://127.0.0.1:8000/graphql", subprotocols=["graphql-transport-ws"])
    send {"type": "connection_init", "payload": {"Authorization": "Bearer <access token>"}}

The protocol (github.com/enisdenjo/graphql-ws, PROTOCOL.md), and what this service adds:
- Handshake without the `graphql-transport-ws` subprotocol (e.g. only the legacy `graphql-ws`):
  refused before it is accepted (HTTP 403).
- The token: `payload.Authorization` (or `authorization`) = "Bearer <token>", exactly the HTTP
  header's value, or `payload.token` = the bare token. It is validated like HTTP's header (one
  value only); refused, missing, or already past its `exp`: close 4403 Forbidden.
- Anything but `connection_init` before it (a subscribe, even a ping): close 4401 Unauthorized.
- Subscriptions only: a query or mutation sent over the socket gets an `error` message (HTTP
  serves those, reading the caller afresh for each request).
- At the token's `exp` (not exp + the 2 minutes of clock skew HTTP tolerates, so a stream never
  outlives its token): every running operation gets `complete`, then close 4403 "Token expired";
  a client reconnects with a fresh token.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Mapping
from datetime import datetime

from graphql import GraphQLError, OperationType, get_operation_ast, parse
from starlette import status
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    SubscribeMessage,
    SubscribeMessagePayload,
)

from api.graphql.context import Context
from api.graphql.schema import MAX_TOKENS
from api.trusted.wire import Gate, Refusal
from auth.authenticate import Authenticator
from auth.errors import Unauthenticated

logger = logging.getLogger("incentives.websocket")

UNAUTHORIZED = 4401
FORBIDDEN = 4403
BAD_REQUEST = 4400
ONLY_SUBSCRIPTIONS = (
    "Only subscriptions are served over the websocket; send queries and mutations to POST /graphql."
)


def authorization_of(payload: Mapping[str, object]) -> list[str]:
    """The Authorization "header" values a `connection_init` payload carries (validated like HTTP's)."""
    values = [payload[name] for name in ("Authorization", "authorization") if name in payload]
    if "token" in payload:
        values.append(f"Bearer {payload['token']}")
    return [value if isinstance(value, str) else "" for value in values]


async def authenticate_connection(context: Context, authenticator: Authenticator) -> None:
    """Sign the connection in from its `connection_init` payload, or raise ConnectionRejectionError."""
    authorization = authorization_of(context.connection_params)
    try:
        principal = await authenticator.principal_for(authorization)
    except Unauthenticated as refused:
        logger.info("websocket token refused: %s", refused.reason)
        if context.services.metrics is not None:
            context.services.metrics.token_refused(refused.reason)
        raise ConnectionRejectionError from refused
    if _seconds_until(principal.identity.expires_at) <= 0:
        logger.info("websocket token refused: expired")
        raise ConnectionRejectionError
    context.principal = principal
    context.reauthenticate = lambda: authenticator.principal_for(authorization)


def _seconds_until(moment: datetime | None) -> float:
    # Tokens are checked against the real time (as the validator does), not the app's domain clock.
    return float("inf") if moment is None else moment.timestamp() - time.time()


class TransportHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws, stricter before `connection_init` and ended when the token expires."""

    _expiry: asyncio.Task[None] | None = None

    async def handle_message(self, message: Message) -> None:
        if not isinstance(message, dict):
            await self.websocket.close(code=BAD_REQUEST, reason="Invalid message")
            return
        if not self.connection_init_received and message.get("type") != "connection_init":
            await self.websocket.close(code=UNAUTHORIZED, reason="Unauthorized")
            return
        await super().handle_message(message)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self.connection_acknowledged and message["id"] not in self.operations:
            refused = self._name_document(message["payload"])
            if refused is not None:
                error = GraphQLError(refused.message, extensions={"code": refused.code})
                await self.send_message({"id": message["id"], "type": "error", "payload": [error.formatted]})
                return
        # A connection keeps its caller for up to an hour: queries and mutations go over HTTP,
        # where every request reads the caller afresh.
        if (
            self.connection_acknowledged
            and message["id"] not in self.operations
            and not _is_subscription(message["payload"])
        ):
            error = GraphQLError(ONLY_SUBSCRIPTIONS)
            await self.send_message({"id": message["id"], "type": "error", "payload": [error.formatted]})
            return
        await super().handle_subscribe(message)

    def _name_document(self, payload: SubscribeMessagePayload) -> Refusal | None:
        """As over HTTP: the document named by `documentId` or Apollo's hash becomes the payload's
        `query`; a partner's untrusted document is refused under enforce."""
        gate: Gate = getattr(self.view, "gate")  # noqa: B009 (the view is api.app.GraphQLApp)
        named = gate.named(payload)
        if named is None or isinstance(named, Refusal):
            return named
        refused = gate.admits(named, self.context.principal, payload.get("operationName"))
        if refused is None:
            payload["query"] = named.text
        return refused

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self._expiry is None:
            seconds = _seconds_until(self.context.principal.identity.expires_at)
            if seconds != float("inf"):
                self._expiry = asyncio.create_task(self._end_after(seconds), name="websocket-token-expiry")

    async def _end_after(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))
        with contextlib.suppress(WebSocketDisconnected, WebSocketDisconnect):
            for operation in list(self.operations.values()):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
                if operation.task is not None:
                    operation.task.cancel()
            await self.websocket.close(code=FORBIDDEN, reason="Token expired")

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        metrics = self.context.services.metrics if isinstance(self.context, Context) else None
        if metrics is None:
            await super().run_operation(operation)
            return
        metrics.subscriptions.inc()
        try:
            await super().run_operation(operation)
        finally:
            metrics.subscriptions.dec()

    async def shutdown(self) -> None:
        if self._expiry is not None and self._expiry is not asyncio.current_task():
            self._expiry.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._expiry
        await super().shutdown()


def _is_subscription(payload: SubscribeMessagePayload) -> bool:
    try:
        document = parse(payload["query"], max_tokens=MAX_TOKENS)
    except (GraphQLError, TypeError):
        return True  # not ours to judge: the protocol handler answers a malformed document
    operation = get_operation_ast(document, payload.get("operationName"))
    return operation is None or operation.operation is OperationType.SUBSCRIPTION


class WebSocketEndpoint:
    """The websocket side of /graphql: refuses any handshake without graphql-transport-ws (HTTP 403)."""

    def __init__(self, graphql: ASGIApp) -> None:
        self._graphql = graphql

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if GRAPHQL_TRANSPORT_WS_PROTOCOL not in scope.get("subprotocols", ()):
            # Closing before accepting makes the server answer the handshake with 403.
            await WebSocket(scope, receive, send).close(code=status.WS_1008_POLICY_VIOLATION)
            return
        state = scope.setdefault("state", {})
        state["request_id"] = str(uuid.uuid4())
        services = state["services"]
        draining, metrics = services.draining, services.metrics
        draining.opened(send)  # a SIGTERM closes it with 1001 (api.draining)
        if metrics is not None:
            metrics.websockets.inc()
        try:
            await self._graphql(scope, receive, send)
        finally:
            draining.closed(send)
            if metrics is not None:
                metrics.websockets.dec()
