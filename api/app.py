"""The ASGI application: `create_app(settings)` routes HTTP and the websocket to the schema.

Nothing happens at import time. The lifespan builds the services once (`api.composition`) and
hands them to every request as `request.state.services`. Every request gets a request id (echoed
as `X-Request-Id`); `/graphql` authenticates before executing anything.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any, NamedTuple, TypeVar

import orjson
from cross_web import HTTPException
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders, QueryParams
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UnsetType

from adapters.graph import GraphClient
from api import logs, observed
from api.composition import Services, running, token_rules
from api.console import CONSOLE_PATH, console_routes
from api.graphiql import ASSETS_PATH, graphiql_assets, graphiql_page
from api.graphql.context import Context
from api.graphql.errors import MASKED_MESSAGE, RETRY_AFTER_SECONDS, UNAVAILABLE, UNAVAILABLE_MESSAGE
from api.graphql.schema import MAX_TOKENS, build_schema, validation_rules
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
from api.media import GRAPHQL_RESPONSE, JSON, negotiate
from api.observe import observing
from api.read.extension import Plans
from api.read.lane import UNCONFIRMED, Lane
from api.settings import Settings
from api.tracing import TracedGraphQL, tracer, tracing_on
from api.trusted.parsed import Documents
from api.trusted.prepared import OFF, load_manifest, manifest_path, prepare
from api.trusted.wire import Gate, Refusal
from api.websocket import TransportHandler, WebSocketEndpoint, authenticate_connection
from auth.authenticate import Authenticator, Unconfirmed
from auth.errors import Unauthenticated
from auth.principal import Identity, Principal
from domain.clock import Clock
from domain.database import is_unavailable
from domain.events import EventBus

logger = logging.getLogger("incentives.api")
T = TypeVar("T")

UNAUTHENTICATED_BODY = {
    "errors": [
        {"message": "A valid Entra ID access token is required.", "extensions": {"code": "UNAUTHENTICATED"}}
    ]
}
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
# The codes of the 4xx answers Strawberry refuses a request with (its own are plain text).
_CODES = {400: "BAD_REQUEST", 404: "NOT_FOUND", 405: METHOD_NOT_ALLOWED, 415: "UNSUPPORTED_MEDIA_TYPE"}
READINESS_TIMEOUT_SECONDS = 2.0
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Where the text of the document a request names waits in its state for Strawberry's view.
NAMED = "named_document"
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
    # The trusted documents are prepared now: a manifest that cannot be served stops the app here.
    mode = settings.trusted_documents
    graphql = GraphQLApp(
        graphiql=settings.graphiql,
        allowed_origins=settings.cors_origins(),
        personas_url=settings.graphiql_personas_url,
        trusted=TrustedSettings(
            mode,
            load_manifest(mode, manifest_path(settings.trusted_documents_file)),
        ),
    )
    endpoint: ASGIApp = observing(AuthenticatedGraphQL(graphql), settings)
    if tracing_on():  # else no span, no header read: nothing at all
        # Outside `observing`: its line per request carries the server span's trace and span ids.
        endpoint = TracedGraphQL(endpoint, tracer())
    routes = [
        # Every method reaches it, so that the others get a JSON 405 (GraphQL over HTTP).
        Route("/graphql", endpoint),
        WebSocketRoute("/graphql", WebSocketEndpoint(graphql)),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/livez", healthz, methods=["GET"]),  # never touches the database (CONTRACT 6.5)
        Route("/readyz", readyz, methods=["GET"]),
        # GraphiQL's files ship with the package: it works with no internet.
        *([Mount(ASSETS_PATH, graphiql_assets())] if settings.graphiql else []),
        # The browser console (api/console.py), when its app registration is configured.
        *([Mount(CONSOLE_PATH, routes=console_routes(settings))] if settings.console_client_id else []),
    ]
    # Outermost: a preflight is answered before routing. Exact origins, echoed; no credentials
    # (the token travels in Authorization, never in a cookie).
    origins = settings.cors_origins()

    def with_cors(inner: ASGIApp) -> ASGIApp:
        return CORSMiddleware(
            inner,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            # W3C trace context: a browser's traceparent continues its trace; the answer's names it.
            allow_headers=["Authorization", "Content-Type", "traceparent", "tracestate"],
            allow_credentials=False,
            expose_headers=["X-Request-Id", "Retry-After", "traceparent"],
            max_age=600,
        )

    cors = with_cors(endpoint)
    assert isinstance(cors, CORSMiddleware)
    app = App(PostHeaders(endpoint, cors), routes=routes, lifespan=lifespan)
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(with_cors)
    return app


class App(Starlette):
    """Starlette, except that a POST to /graphql (nearly every request) goes straight to the
    endpoint through the same CORS and request-id middleware, past the router and Starlette's
    exception middleware, which have nothing to do for it: the endpoint answers every error of its
    own, and an unexpected one reaches uvicorn, which answers 500 as Starlette's would."""

    def __init__(self, graphql_posts: ASGIApp, **starlette: Any) -> None:
        super().__init__(**starlette)
        self.graphql_posts = graphql_posts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            send = _closing_once_stopping(scope, send)
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"] == "/graphql"
            and not scope.get("root_path")
        ):
            scope["app"] = self
            await self.graphql_posts(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def _closing_once_stopping(scope: Scope, send: Send) -> Send:
    """From SIGTERM on every answer says `Connection: close` (CONTRACT 6.5): a client on a kept-alive
    connection reconnects, and the load balancer, which sees /readyz 503, sends it elsewhere."""
    services: Services | None = scope.get("state", {}).get("services")
    if services is None:
        return send
    draining = services.draining

    async def send_closing(message: Message) -> None:
        if message["type"] == "http.response.start" and draining.stopping:
            message["headers"] = [*message.get("headers", ()), (b"connection", b"close")]
        await send(message)

    return send_closing


def services_of(connection: HTTPConnection) -> Services:
    """The running app's services (the lifespan put them in every request's state)."""
    services: Services = connection.state.services
    return services


class PostHeaders:
    """What `RequestIdMiddleware` and `CORSMiddleware` (a simple request's answer) add to a response,
    in one pass over the request's headers and one over the response's: the POST path's own (every
    request of an SPA), instead of two wrappers that each parse the headers into objects. `cors` is
    the CORSMiddleware the other paths use; its settings are read, not copied."""

    def __init__(self, app: ASGIApp, cors: CORSMiddleware) -> None:
        self.app = app
        self._cors = cors
        simple = cors.simple_headers.items()
        self._simple = [(name.lower().encode(), value.encode()) for name, value in simple]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        incoming: bytes | None = None
        origin: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"x-request-id" and incoming is None:
                incoming = value
            elif name == b"origin" and origin is None:
                origin = value
        request_id = _request_id(scope, b"" if incoming is None else incoming)
        added = [(b"x-request-id", request_id.encode()), (b"x-content-type-options", b"nosniff")]
        if origin is not None:
            cors = self._cors
            if cors.allow_all_origins:
                explicit = cors.allow_credentials
            else:
                explicit = cors.is_allowed_origin(origin.decode("latin-1"))
            if explicit:
                simple = [pair for pair in self._simple if pair[0] != b"access-control-allow-origin"]
                added += [*simple, (b"access-control-allow-origin", origin)]
            else:
                added += self._simple
        replaced = {name for name, _ in added}
        token = logs.request_id.set(request_id)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[tuple[bytes, bytes]] = []
                vary: list[bytes] = []
                cached = False
                for name, value in message.get("headers", ()):
                    if name == b"vary":
                        vary.append(value)
                    elif name not in replaced:
                        cached = cached or name == b"cache-control"
                        headers.append((name, value))
                headers += added
                if not cached:
                    # Answers hold bank and tax data: no cache, shared or the browser's, keeps them.
                    headers.append((b"cache-control", b"no-store"))
                headers.append((b"vary", b", ".join([*vary, b"Origin"])))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            logs.request_id.reset(token)


def _request_id(scope: Scope, incoming: bytes) -> str:
    """The request's id, put in its state: a sane incoming `X-Request-Id`, else a new one."""
    text = incoming.decode("latin-1")
    request_id = text if _SANE_REQUEST_ID.fullmatch(text) else logs.new_request_id()
    scope.setdefault("state", {})["request_id"] = request_id
    return request_id


class RequestIdMiddleware:
    """Gives every HTTP request an id (a sane incoming `X-Request-Id`, else a new UUID) and echoes it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next((value for name, value in scope["headers"] if name == b"x-request-id"), b"")
        request_id = _request_id(scope, incoming)
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


class TextFrames(ASGIWebSocketAdapter):
    """graphql-transport-ws messages as text frames: JSON is text, and a browser's WebSocket hands a
    binary frame to the page as a Blob, which graphql-ws clients cannot read."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except WebSocketDisconnect as gone:
            raise WebSocketDisconnected from gone


class TrustedSettings(NamedTuple):
    """INCENTIVES_TRUSTED_DOCUMENTS and the manifest's documents by id."""

    mode: str = OFF
    documents: Mapping[str, str] = {}


NO_TRUSTED_DOCUMENTS = TrustedSettings()


class GraphQLApp(GraphQL[Context, None]):
    """Strawberry over HTTP, and subscriptions over graphql-transport-ws only (api/websocket.py)."""

    graphql_transport_ws_handler_class = TransportHandler
    websocket_adapter_class = TextFrames

    def __init__(
        self,
        *,
        graphiql: bool = False,
        allowed_origins: Sequence[str] = (),
        personas_url: str = "",
        trusted: TrustedSettings = NO_TRUSTED_DOCUMENTS,
    ) -> None:
        self.plans = Plans()
        self.documents = Documents(max_tokens=MAX_TOKENS)
        schema = build_schema(plans=self.plans, documents=self.documents)
        rules = validation_rules()
        prepared = prepare(trusted.documents, schema, self.documents, self.plans, rules)
        self.gate = Gate(trusted.mode, prepared, self.documents)
        super().__init__(
            schema,
            allowed_origins=allowed_origins,
            graphql_ide="graphiql" if graphiql else None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=CONNECTION_INIT_SECONDS),
        )
        self._graphiql_page = graphiql_page(personas_url=personas_url) if graphiql else ""

    async def render_graphql_ide(self, request: Request) -> Response:
        # Our own page over the vendored files (api/graphiql.py); tokens never in localStorage.
        return HTMLResponse(self._graphiql_page)

    def encode_json(self, data: object) -> bytes:
        # orjson: the same JSON as the standard library's (compact), a few times faster.
        return orjson.dumps(data)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await self.run(request)
        except HTTPException as refused:  # Strawberry's would be plain text
            status, message = refused.status_code, refused.reason
            if status == 404:  # a GET without a query, GraphiQL being off
                status, message = 400, "A GET to /graphql needs a `query` parameter."
            allow = {"Allow": "POST"} if status == 405 else None  # a mutation sent by GET
            code = _CODES.get(status, "BAD_REQUEST")
            response = problem(status, message, code, allow, media=_media_of(request))
        await response(scope, receive, send)

    async def execute_single(
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        named: str | None = getattr(request.state, NAMED, None)
        if named is not None:  # the text of the document the request named (`AuthenticatedGraphQL`)
            request_data = replace(request_data, query=named)
        try:
            return await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        except HTTPException as refused:
            if isinstance(refused.__cause__, InvalidOperationTypeError):
                raise HTTPException(405, refused.reason) from refused.__cause__
            raise

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A GET naming a document by id has no `query`: it asks for the document, not GraphiQL.
        params = request.query_params
        named = "documentId" in params or "extensions" in params
        return not named and super().should_render_graphql_ide(request)

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        response = await super().get_sub_response(request)
        if isinstance(request, Request):
            response.media_type = _media_of(request)
            request.state.graphql_response = response  # for process_result's status
        return response

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        answer = await super().process_result(request, result)
        if result.data is None and result.errors and all(error.path is None for error in result.errors):
            # Refused before execution began (parse, validation, variables, limits): no data entry.
            answer.pop("data", None)
            response: Response | None = getattr(request.state, "graphql_response", None)
            # Under graphql-response+json that is a 4xx (500 if masked); a status set already stays.
            if response is not None and response.media_type == GRAPHQL_RESPONSE and not response.status_code:
                masked = any(error.message == MASKED_MESSAGE for error in result.errors)
                response.status_code = 500 if masked else 400
        return answer

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        response = super().create_response(response_data, sub_response)
        media = sub_response.media_type or JSON
        response.media_type = media
        response.headers["content-type"] = media
        return response

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
            unconfirmed=getattr(request.state, UNCONFIRMED, None),
            authorization=getattr(request.state, "authorization", ()),
        )


class AuthenticatedGraphQL:
    """Refuses (401, UNAUTHENTICATED) before anything executes unless the token is accepted."""

    def __init__(self, graphql: GraphQLApp) -> None:
        self._graphql = graphql
        self._lane = Lane(graphql.plans)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        asked = _Asked.of(scope)
        graphiql = (
            bool(self._graphql.graphql_ide)
            and scope["method"] == "GET"
            and _asks_for_graphiql(Request(scope, receive))
        )
        media = negotiate(asked.accept)
        refused = None if graphiql else _refused_by_form(scope["method"], asked.content_type, media)
        if refused is not None:
            await refused(scope, receive, send)
            return
        state = scope["state"]
        state["media_type"] = media
        services: Services = state["services"]
        principal, unconfirmed = _NOBODY, None
        if not graphiql:
            # A remembered caller is trusted here, and confirmed once the request is admitted, before
            # anything is answered: in the first statement of its read (the lane's, or Strawberry's
            # planned read), else by one statement before graphql-core executes (`Context.confirm`).
            signed = await _signing_in(
                services.authenticator.remembered_for(asked.authorization), media, send
            )
            if signed is None:
                return
            principal, unconfirmed = signed
            state["principal"] = principal
            state[UNCONFIRMED] = unconfirmed
            state["authorization"] = asked.authorization
        # The body must arrive, and the answer be ready, within INCENTIVES_REQUEST_TIMEOUT each.
        timeout = services.request_timeout
        try:
            body = await read_body(scope, receive, seconds=timeout)
            parsed = check_json_body(scope, body)
        except BodyRefused as refusal:
            await send_json(send, refusal.status, error_body(refusal.message, refusal.code), media=media)
            return
        except ClientGone:
            return
        app: ASGIApp = self._graphql
        if principal is not _NOBODY:
            turned_away = self._name_document(scope, parsed, principal)
            if turned_away is not None:
                # PERSISTED_QUERY_NOT_FOUND is 200 as JSON (as Apollo's servers answer), a request
                # error (400) as graphql-response+json.
                status = turned_away.status
                status = 400 if status == 200 and media == GRAPHQL_RESPONSE else status
                answer = error_body(turned_away.message, turned_away.code)
                await send_json(send, status, answer, media=media)
                return
            if parsed is not None:
                app = self._planned_or_general(parsed, principal, unconfirmed, media or JSON)
        await guarded(app, scope, body, receive, send, seconds=timeout)

    def _name_document(
        self, scope: Scope, parsed: dict[str, Any] | None, principal: Principal
    ) -> Refusal | None:
        """The document the request names (by id, hash or text), put where the lane (`parsed`) and
        Strawberry's view (the request's state) read the query; or why it is refused."""
        fields = parsed if parsed is not None else _get_fields(scope)
        if isinstance(fields, Refusal):
            return fields
        gate = self._graphql.gate
        named = None if fields is None else gate.named(fields)
        if named is None or isinstance(named, Refusal):
            return named
        assert fields is not None
        refusal = gate.admits(named, principal, fields.get("operationName"))
        if refusal is None and named.text is not fields.get("query"):
            scope["state"][NAMED] = named.text
            if parsed is not None:
                parsed["query"] = named.text
        return refusal

    def _planned_or_general(
        self, parsed: dict[str, Any], principal: Principal, unconfirmed: Unconfirmed | None, media: str
    ) -> ASGIApp:
        """The lane's answer to a query it has a plan for, else Strawberry's view's."""

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            request = Request(scope, receive)
            services = scope["state"]["services"]
            body = await self._lane.answer(request, parsed, principal, services, unconfirmed)
            if body is None:
                await self._graphql(scope, receive, send)
            else:
                await send_json(send, 200, body, media=media)

        return app


class _Asked(NamedTuple):
    """The request headers /graphql reads, in one pass (Starlette's `Headers` decodes them all)."""

    accept: str | None
    content_type: str
    authorization: list[str]

    @classmethod
    def of(cls, scope: Scope) -> _Asked:
        accept: str | None = None
        content_type: str | None = None
        authorization: list[str] = []
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization.append(value.decode("latin-1"))
            elif name == b"accept" and accept is None:
                accept = value.decode("latin-1")
            elif name == b"content-type" and content_type is None:
                content_type = value.decode("latin-1")
        return cls(accept, content_type or "", authorization)


def _refused_by_form(method: str, content_type: str, media: str | None) -> Response | None:
    """The GraphQL-over-HTTP checks on a request's form, before anything else: 405 for a method
    other than GET and POST, 406 when neither JSON media type is accepted, 415 for a POST body
    that is not JSON. Each a JSON `errors` body, as every 4xx of /graphql."""
    if method not in ("GET", "POST"):
        message = f"{method} is not supported: send queries by GET or POST, mutations by POST."
        return problem(405, message, METHOD_NOT_ALLOWED, {"Allow": "GET, POST"})
    if media is None:
        message = f"The answer is {GRAPHQL_RESPONSE} or {JSON}; the Accept header allows neither."
        return problem(406, message, "NOT_ACCEPTABLE")
    if method == "POST" and content_type.split(";")[0].strip().lower() != JSON:
        message = f"A POST to /graphql has Content-Type: {JSON}."
        return problem(415, message, "UNSUPPORTED_MEDIA_TYPE", media=media)
    return None


def problem(
    status: int, message: str, code: str, headers: dict[str, str] | None = None, *, media: str = JSON
) -> Response:
    """A 4xx of /graphql: `{"errors": [{"message", "extensions": {"code"}}]}`."""
    return Response(error_body(message, code), status_code=status, headers=headers, media_type=media)


def _media_of(request: Request) -> str:
    """The answer's media type, as negotiated when the request came in."""
    media: str | None = getattr(request.state, "media_type", None)
    return media or JSON


def _asks_for_graphiql(request: Request) -> bool:
    params = request.query_params
    return (
        request.method == "GET"
        and not ("query" in params or "documentId" in params or "extensions" in params)
        and "text/html" in request.headers.get("accept", "")
    )


def _get_fields(scope: Scope) -> dict[str, Any] | Refusal | None:
    """A GET's `query`, `documentId`, `operationName` and `extensions` (JSON); None for a POST."""
    if scope["method"] != "GET":
        return None
    params = QueryParams(scope["query_string"])
    fields: dict[str, Any] = {name: params.get(name) for name in ("query", "documentId", "operationName")}
    extensions = params.get("extensions")
    if extensions:
        try:
            fields["extensions"] = orjson.loads(extensions)
        except orjson.JSONDecodeError:
            return Refusal(400, "The `extensions` parameter is not JSON.", "BAD_REQUEST")
    return fields


async def _signing_in(step: Awaitable[T], media: str | None, send: Send) -> T | None:
    """What a step of signing in gives, or None once the client was told it failed: 401 for a
    refused token, 503 while the database is away."""
    try:
        return await step
    except Unauthenticated as refusal:
        logger.info("token refused: %s", refusal.reason)
        observed.token_refused(refusal.reason)
        challenge = [(b"www-authenticate", b"Bearer")]
        await send_json(send, 401, orjson.dumps(UNAUTHENTICATED_BODY), challenge, media=media or JSON)
        return None
    except Exception as error:
        if not is_unavailable(error):
            raise
        logger.warning("the database is unavailable while signing a caller in: %r", error)
        retry = [(b"retry-after", str(RETRY_AFTER_SECONDS).encode())]
        await send_json(send, 503, error_body(UNAVAILABLE_MESSAGE, UNAVAILABLE), retry, media=media)
        return None


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    services = services_of(request)
    if services.draining.stopping:  # a load balancer sends no more; requests in flight finish
        return JSONResponse({"status": "unavailable", "reason": "stopping"}, status_code=503)
    if await _database_answers(services.engine):
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
