"""The ASGI application: `create_app(settings)` wires settings, database, sign-in and the schema.

Nothing happens at import time. The lifespan opens the engine and the HTTP client for signing
keys and closes them at shutdown. Every request gets a request id (echoed as `X-Request-Id`);
`/graphql` authenticates before executing anything.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UnsetType

from api import logs
from api.events import EventBus, bus_for
from api.graphql.context import Context
from api.graphql.loaders import Loaders
from api.graphql.schema import build_schema
from api.mail_delivery import OutboxDelivery
from api.mailer import delivery_from_settings
from api.reminders import TaxReminders
from api.settings import Settings
from api.websocket import TransportHandler, WebSocketEndpoint, authenticate_connection
from auth.authenticate import Authenticator
from auth.errors import Unauthenticated
from auth.graph import GraphClient, GraphConfig
from auth.key_refresh import KeyRefresher
from auth.keys import SigningKeys
from auth.principal import Identity, Principal
from auth.tokens import TokenRules, TokenValidator
from domain.clock import Clock, SystemClock
from domain.database import create_engine, session_factory

logger = logging.getLogger("incentives.api")

UNAUTHENTICATED_BODY = {
    "errors": [
        {"message": "A valid Entra ID access token is required.", "extensions": {"code": "UNAUTHENTICATED"}}
    ]
}
READINESS_TIMEOUT_SECONDS = 2.0
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Only the GraphiQL page is served without a token; it executes nothing.
_NOBODY = Principal(identity=Identity(tenant_id="", object_id=""))


@dataclass
class Runtime:
    """What the lifespan opens: filled in at startup, read by every request."""

    settings: Settings
    clock: Clock
    engine: AsyncEngine | None = None
    sessions: async_sessionmaker[AsyncSession] | None = None
    authenticator: Authenticator | None = None
    delivery: OutboxDelivery | None = None
    events: EventBus | None = None
    graph: GraphClient | None = None

    def mail_queued(self) -> None:
        """Deliver promptly what a mutation just queued (a no-op when no mail server is set)."""
        if self.delivery is not None:
            self.delivery.wake()

    def started(self) -> tuple[async_sessionmaker[AsyncSession], Authenticator]:
        if self.sessions is None or self.authenticator is None:
            raise RuntimeError("the application has not started (lifespan not run)")
        return self.sessions, self.authenticator


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    engine: AsyncEngine | None = None,
    authenticator: Authenticator | None = None,
    events: EventBus | None = None,
    graph: GraphClient | None = None,
) -> Starlette:
    """The app; `engine`, `authenticator`, `events` and `graph` follow `settings` unless given (tests)."""
    rules = None if authenticator is not None else token_rules(settings)
    runtime = Runtime(settings=settings, clock=clock or SystemClock(), events=events)
    runtime.graph = graph  # given: the caller closes it; else the lifespan opens one from settings
    graphql = GraphQLApp(runtime)
    routes = [
        Route("/graphql", AuthenticatedGraphQL(runtime, graphql), methods=["GET", "POST"]),
        WebSocketRoute("/graphql", WebSocketEndpoint(graphql)),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", _readyz(runtime), methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=_lifespan(runtime, rules, engine, authenticator))
    app.add_middleware(RequestIdMiddleware)
    return app


def token_rules(settings: Settings) -> TokenRules:
    """The token rules from settings; a clear `ValueError` for what `serve` cannot start with."""
    missing = settings.missing_for_serve()
    if missing:
        raise ValueError(f"set {' and '.join(missing)} to serve the API")
    assert settings.azure_client_id is not None
    assert settings.azure_tenant_id is not None
    try:
        return TokenRules(
            authority_host=settings.azure_authority_host.rstrip("/"),
            client_id=settings.azure_client_id,
            operator_tenant_id=settings.azure_tenant_id,
            required_scope=settings.required_scope,
            accept_v1_tokens=settings.accept_v1_tokens,
            allowed_client_apps=settings.allowed_client_app_ids(),
        )
    except ValueError as error:
        raise ValueError(f"AZURE_AUTHORITY_HOST / AZURE_* settings refused: {error}") from error


def _lifespan(
    runtime: Runtime,
    rules: TokenRules | None,
    engine: AsyncEngine | None,
    authenticator: Authenticator | None,
) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            runtime.engine = engine or create_engine(runtime.settings.database_url)
            if engine is None:
                stack.push_async_callback(runtime.engine.dispose)
            runtime.sessions = session_factory(runtime.engine)
            runtime.authenticator = authenticator
            if authenticator is None:
                assert rules is not None
                http = await stack.enter_async_context(httpx.AsyncClient(timeout=10.0))
                runtime.authenticator = _authenticator(runtime, rules, http, stack)
            await _start_delivery(runtime, stack)
            await _start_events(runtime, stack)
            await _open_graph(runtime, stack)
            _start_tax_reminders(runtime, stack)
            yield

    return lifespan


async def _start_delivery(runtime: Runtime, stack: AsyncExitStack) -> None:
    """Deliver the outbox in the background while the app runs, when a mail server is configured."""
    assert runtime.sessions is not None
    runtime.delivery = delivery_from_settings(runtime.settings, runtime.sessions, runtime.clock)
    if runtime.delivery is None:
        logger.info("INCENTIVES_SMTP_HOST is not set: outgoing mail stays queued")
        return
    runtime.delivery.start()
    stack.push_async_callback(runtime.delivery.stop)


def _start_tax_reminders(runtime: Runtime, stack: AsyncExitStack) -> None:
    """Remind Incentives admins of expiring tax profiles, at startup and every interval (0: off)."""
    assert runtime.sessions is not None
    settings = runtime.settings
    if settings.tax_reminder_interval <= 0:
        return
    reminders = TaxReminders(
        runtime.sessions,
        runtime.clock,
        days=settings.tax_reminder_days,
        public_url=settings.public_url,
        interval=settings.tax_reminder_interval,
        mail_queued=runtime.mail_queued,
    )
    reminders.start()
    stack.push_async_callback(reminders.stop)


async def _open_graph(runtime: Runtime, stack: AsyncExitStack) -> None:
    """Microsoft Graph as the service (directory lookups), from settings unless one was given."""
    if runtime.graph is not None:
        return
    http = await stack.enter_async_context(httpx.AsyncClient(timeout=10.0, trust_env=False))
    graph = GraphClient(GraphConfig.from_settings(runtime.settings), http)
    stack.push_async_callback(graph.close)
    stack.callback(setattr, runtime, "graph", None)  # a later startup opens a fresh one
    runtime.graph = graph
    if not graph.configured:
        logger.info("AZURE_CLIENT_SECRET / AZURE_CLIENT_CERTIFICATE_PATH not set: directory lookups are off")


async def _start_events(runtime: Runtime, stack: AsyncExitStack) -> None:
    """Live notifications: LISTEN/NOTIFY on PostgreSQL (across processes), in process on SQLite."""
    assert runtime.engine is not None
    runtime.events = runtime.events or bus_for(runtime.engine)
    await runtime.events.start()
    stack.push_async_callback(runtime.events.stop)


def _authenticator(
    runtime: Runtime, rules: TokenRules, http: httpx.AsyncClient, stack: AsyncExitStack
) -> Authenticator:
    """The authenticator, with its signing keys refreshed in the background until shutdown."""
    keys = SigningKeys(rules.authority_host, http, min_refresh_interval=runtime.settings.key_refresh_interval)
    refresher = KeyRefresher(keys, interval_seconds=runtime.settings.key_background_refresh)
    refresher.start()
    stack.push_async_callback(refresher.stop)
    assert runtime.sessions is not None
    return Authenticator(TokenValidator(rules, keys), runtime.sessions, rules.operator_tenant_id)


class RequestIdMiddleware:
    """Gives every HTTP request an id (a sane incoming `X-Request-Id`, else a new UUID) and echoes it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Request(scope).headers.get("x-request-id", "")
        request_id = incoming if _SANE_REQUEST_ID.fullmatch(incoming) else str(uuid.uuid4())
        scope.setdefault("state", {})["request_id"] = request_id
        token = logs.request_id.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Request-Id"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            logs.request_id.reset(token)


class GraphQLApp(GraphQL[Context, None]):
    """Strawberry over HTTP, and subscriptions over graphql-transport-ws only (api/websocket.py)."""

    graphql_transport_ws_handler_class = TransportHandler

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(
            build_schema(), graphql_ide="graphiql", subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,)
        )
        self._runtime = runtime

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        _, authenticator = self._runtime.started()
        await authenticate_connection(context, authenticator)
        return await super().on_ws_connect(context)

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        sessions, _ = self._runtime.started()
        return Context(
            request=request,
            response=response if isinstance(response, Response) else None,
            principal=getattr(request.state, "principal", _NOBODY),
            sessions=sessions,
            loaders=Loaders(sessions),
            clock=self._runtime.clock,
            settings=self._runtime.settings,
            request_id=request.state.request_id,
            mail_queued=self._runtime.mail_queued,
            events=self._runtime.events,
            graph=self._runtime.graph,
        )


class AuthenticatedGraphQL:
    """Refuses (401, UNAUTHENTICATED) before anything executes unless the token is accepted."""

    def __init__(self, runtime: Runtime, graphql: GraphQLApp) -> None:
        self._runtime = runtime
        self._graphql = graphql

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if not _asks_for_graphiql(request):
            _, authenticator = self._runtime.started()
            try:
                principal = await authenticator.principal_for(request.headers.getlist("authorization"))
            except Unauthenticated as refused:
                logger.info("token refused: %s", refused.reason)
                await _unauthenticated()(scope, receive, send)
                return
            scope["state"]["principal"] = principal
        await self._graphql(scope, receive, send)


def _asks_for_graphiql(request: Request) -> bool:
    return (
        request.method == "GET"
        and "query" not in request.query_params
        and "text/html" in request.headers.get("accept", "")
    )


def _unauthenticated() -> Response:
    return JSONResponse(UNAUTHENTICATED_BODY, status_code=401, headers={"WWW-Authenticate": "Bearer"})


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def _readyz(runtime: Runtime) -> Callable[[Request], Awaitable[Response]]:
    async def readyz(request: Request) -> Response:
        if await _database_answers(runtime.engine):
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "unavailable", "reason": "database"}, status_code=503)

    return readyz


async def _database_answers(engine: AsyncEngine | None) -> bool:
    if engine is None:
        return False
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:  # any failure at all means "not ready"; the reason goes to the log
        logger.warning("readiness check failed", exc_info=True)
        return False
    return True
