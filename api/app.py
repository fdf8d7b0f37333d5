"""The ASGI application: `create_app(settings)` routes HTTP and the websocket to the schema.

Nothing happens at import time. The lifespan builds the services once (`api.composition`) and
hands them to every request as `request.state.services`. Every request gets a request id (echoed
as `X-Request-Id`); `/graphql` authenticates before executing anything.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UnsetType

from adapters.graph import GraphClient
from api import logs
from api.composition import Services, running, token_rules
from api.graphql.context import Context
from api.graphql.errors import RETRY_AFTER_SECONDS, UNAVAILABLE, UNAVAILABLE_MESSAGE
from api.graphql.loaders import Loaders
from api.graphql.schema import build_schema
from api.guard import (
    CONNECTION_INIT_SECONDS,
    BodyRefused,
    ClientGone,
    check_json_body,
    error_body,
    guarded,
    read_body,
    send_json,
)
from api.settings import Settings
from api.websocket import TransportHandler, WebSocketEndpoint, authenticate_connection
from auth.authenticate import Authenticator
from auth.errors import Unauthenticated
from auth.principal import Identity, Principal
from domain.clock import Clock
from domain.database import is_unavailable
from domain.events import EventBus

logger = logging.getLogger("incentives.api")

UNAUTHENTICATED_BODY = {
    "errors": [
        {"message": "A valid Entra ID access token is required.", "extensions": {"code": "UNAUTHENTICATED"}}
    ]
}
READINESS_TIMEOUT_SECONDS = 2.0
PERSIST_HEADERS = "shouldPersistHeaders: true"  # in Strawberry's GraphiQL page
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Only the GraphiQL page is served without a token; it executes nothing.
_NOBODY = Principal(identity=Identity(tenant_id="", object_id=""))


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

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        async with running(
            settings,
            rules,
            clock=clock,
            engine=engine,
            authenticator=authenticator,
            events=events,
            graph=graph,
        ) as services:
            yield {"services": services}

    # A page on another origin may open the websocket only from an allowed origin (Strawberry checks).
    graphql = GraphQLApp(graphiql=settings.graphiql, allowed_origins=settings.cors_origins())
    routes = [
        Route("/graphql", AuthenticatedGraphQL(graphql), methods=["GET", "POST"]),
        WebSocketRoute("/graphql", WebSocketEndpoint(graphql)),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(RequestIdMiddleware)
    # Outermost: a preflight is answered before routing. Exact origins, echoed; no credentials
    # (the token travels in Authorization, never in a cookie).
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins(),
        allow_methods=["GET", "POST"],
        allow_headers=["Authorization", "Content-Type"],
        allow_credentials=False,
        expose_headers=["X-Request-Id", "Retry-After"],
        max_age=600,
    )
    return app


def services_of(connection: HTTPConnection) -> Services:
    """The running app's services (the lifespan put them in every request's state)."""
    services: Services = connection.state.services
    return services


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
                headers = MutableHeaders(scope=message)
                headers["X-Request-Id"] = request_id
                headers["X-Content-Type-Options"] = "nosniff"
                # Answers hold bank and tax data: no cache, shared or the browser's, keeps them.
                headers.setdefault("Cache-Control", "no-store")
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            logs.request_id.reset(token)


class GraphQLApp(GraphQL[Context, None]):
    """Strawberry over HTTP, and subscriptions over graphql-transport-ws only (api/websocket.py)."""

    graphql_transport_ws_handler_class = TransportHandler

    def __init__(self, *, graphiql: bool = False, allowed_origins: Sequence[str] = ()) -> None:
        super().__init__(
            build_schema(),
            allowed_origins=allowed_origins,
            graphql_ide="graphiql" if graphiql else None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=CONNECTION_INIT_SECONDS),
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        # A pasted bearer token stays in the page: never in the browser's localStorage.
        return HTMLResponse(self.graphql_ide_html.replace(PERSIST_HEADERS, "shouldPersistHeaders: false"))

    def encode_json(self, data: object) -> bytes:
        # orjson: the same JSON as the standard library's (compact), a few times faster.
        return orjson.dumps(data)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        await authenticate_connection(context, context.services.authenticator)
        return await super().on_ws_connect(context)

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        services = services_of(request)
        return Context(
            request=request,
            response=response if isinstance(response, Response) else None,
            request_id=request.state.request_id,
            principal=getattr(request.state, "principal", _NOBODY),
            services=services,
            loaders=Loaders(services.sessions),
        )


class AuthenticatedGraphQL:
    """Refuses (401, UNAUTHENTICATED) before anything executes unless the token is accepted."""

    def __init__(self, graphql: GraphQLApp) -> None:
        self._graphql = graphql

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if not (self._graphql.graphql_ide and _asks_for_graphiql(request)):
            authenticator = services_of(request).authenticator
            try:
                principal = await authenticator.principal_for(request.headers.getlist("authorization"))
            except Unauthenticated as refused:
                logger.info("token refused: %s", refused.reason)
                await _unauthenticated()(scope, receive, send)
                return
            except Exception as error:
                if not is_unavailable(error):
                    raise
                logger.warning("the database is unavailable while signing a caller in: %r", error)
                retry = [(b"retry-after", str(RETRY_AFTER_SECONDS).encode())]
                await send_json(send, 503, error_body(UNAVAILABLE_MESSAGE, UNAVAILABLE), retry)
                return
            scope["state"]["principal"] = principal
        # The body must arrive, and the answer be ready, within INCENTIVES_REQUEST_TIMEOUT each.
        timeout = services_of(request).request_timeout
        try:
            body = await read_body(scope, receive, seconds=timeout)
            check_json_body(scope, body)
        except BodyRefused as refused:
            await send_json(send, refused.status, error_body(refused.message, refused.code))
            return
        except ClientGone:
            return
        await guarded(self._graphql, scope, body, receive, send, seconds=timeout)


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


async def readyz(request: Request) -> Response:
    if await _database_answers(services_of(request).engine):
        return JSONResponse({"status": "ready"})
    return JSONResponse({"status": "unavailable", "reason": "database"}, status_code=503)


async def _database_answers(engine: AsyncEngine) -> bool:
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:  # any failure at all means "not ready"; the reason goes to the log
        logger.warning("readiness check failed", exc_info=True)
        return False
    return True
