"""The API's schema executed in process: the `api` fixture, for tests of GraphQL behaviour.

    def test_viewer(api: InProcessApi, entra: RunningEntra) -> None:
        reply = api.graphql("{ viewer { objectId } }", token=personas.user(entra, Tenant()).token)

`InProcessApi` answers like `ApiServer` (`graphql(...)`, `last_status`, `statements()`, `engine`,
`clock`, `database_url`) with no socket in between: the services come from the app's composition
root (`api.composition.running`), the token goes through the app's `Authenticator` (a refused one
answers 401 with `UNAUTHENTICATED_BODY` and executes nothing), and the schema runs with
`schema.execute`, its result shaped as Strawberry's HTTP view shapes it. Everything runs on an
event loop of its own in a background thread, as uvicorn's would. Tests about HTTP itself (status
codes, headers, GraphiQL, the websocket) keep the served `api_server`.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import threading
import uuid
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import pytest
import strawberry
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.http import process_result
from strawberry.types.graphql import OperationType

from adapters.graph import GraphClient
from api import logs
from api.app import UNAUTHENTICATED_BODY
from api.composition import Services, graph_config, running, token_rules
from api.graphql.context import Context
from api.graphql.schema import build_schema
from api.settings import Settings
from auth.errors import Unauthenticated
from domain.clock import FixedClock
from tests.support.entra import API_CLIENT_ID, RunningEntra, routed_async_http, routed_msal_http
from tests.support.pgbouncer import engine_for
from tests.support.server import GRAPH_SECRET, TODAY, StatementLog, api_settings, count_statements

T = TypeVar("T")
Json = dict[str, Any]
# What the served app accepts as an incoming X-Request-Id (api.app), else it makes up a UUID.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_OVER_POST = OperationType.from_http("POST")
WAIT = 30.0


class InProcessApi:
    """The app's services and schema on an event loop thread of their own; `graphql(...)` is sync."""

    def __init__(self, settings: Settings, schema: strawberry.Schema, *, graph: GraphClient | None) -> None:
        self.database_url = settings.database_url
        self.engine: AsyncEngine = engine_for(settings.database_url)
        self.clock = FixedClock(TODAY)
        self.last_status: int | None = None
        self._settings = settings
        self._schema = schema
        self._graph = graph
        self._services: Services | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._stopping: asyncio.Event | None = None
        self._failed: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, name="api-in-process", daemon=True)

    def graphql(
        self,
        query: str,
        variables: Json | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Json:
        """What POST /graphql would answer (the JSON body); its status goes to `last_status`."""
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        authorization = [value for name, value in sent.items() if name.lower() == "authorization"]
        incoming = next((value for name, value in sent.items() if name.lower() == "x-request-id"), "")
        request_id = incoming if _SANE_REQUEST_ID.fullmatch(incoming) else str(uuid.uuid4())
        self.last_status, body = self.run(self._answer(query, variables or {}, authorization, request_id))
        return body

    @contextmanager
    def statements(self) -> Iterator[StatementLog]:
        """Count the SQL statements the API runs inside the block."""
        with count_statements(self.engine) as log:
            yield log

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` on the API's event loop and wait for its result."""
        assert self._loop is not None, "the API is not running"
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(WAIT)

    async def _answer(
        self, query: str, variables: Json, authorization: list[str], request_id: str
    ) -> tuple[int, Json]:
        assert self._services is not None
        services = self._services
        reset = logs.request_id.set(request_id)
        try:
            try:
                # As the app signs in: a remembered caller is confirmed once admitted (`Context.confirm`).
                principal, unconfirmed = await services.authenticator.remembered_for(authorization)
            except Unauthenticated:
                return 401, copy.deepcopy(UNAUTHENTICATED_BODY)
            context = Context(
                request_id=request_id,
                principal=principal,
                services=services,
                unconfirmed=unconfirmed,
                authorization=authorization,
            )
            result = await self._schema.execute(
                query, variable_values=variables, context_value=context, allowed_operation_types=_OVER_POST
            )
            # Through JSON, as the HTTP view sends it: the body a client would parse, nothing richer.
            body: Json = json.loads(json.dumps(process_result(result)))
            return 200, body
        finally:
            logs.request_id.reset(reset)

    def start(self) -> InProcessApi:
        self._thread.start()
        if not self._ready.wait(WAIT):
            raise RuntimeError("the in-process API did not start")
        if self._failed is not None:
            self._thread.join(WAIT)
            raise RuntimeError("the in-process API did not start") from self._failed
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(WAIT)
        if self._thread.is_alive():
            raise RuntimeError("the in-process API did not stop")
        if self._failed is not None:
            raise RuntimeError("the in-process API failed while stopping") from self._failed

    def _serve(self) -> None:
        try:
            asyncio.run(self._lifespan())
        except BaseException as error:  # handed to the test's thread by start()/stop()
            self._failed = error
        finally:
            self._ready.set()

    async def _lifespan(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        try:
            rules = token_rules(self._settings)
            async with running(
                self._settings, rules, clock=self.clock, engine=self.engine, graph=self._graph
            ) as services:
                self._services = services
                self._ready.set()
                await self._stopping.wait()
        finally:
            self._services = None
            # The engine's connections belong to this loop: dispose of them here.
            await self.engine.dispose()


@contextmanager
def in_process_api(
    settings: Settings,
    schema: strawberry.Schema,
    *,
    graph: GraphClient | None = None,
    close_at_shutdown: Callable[[], Coroutine[Any, Any, None]] | None = None,
) -> Iterator[InProcessApi]:
    """The API in process for the block; `close_at_shutdown` runs on the API's loop before it stops."""
    api = InProcessApi(settings, schema, graph=graph).start()
    try:
        yield api
    finally:
        try:
            if close_at_shutdown is not None:
                api.run(close_at_shutdown())
        finally:
            api.stop()


@pytest.fixture(scope="session")
def schema() -> strawberry.Schema:
    """The app's schema, built once for the session (it holds no state of its own)."""
    return build_schema()


@pytest.fixture
def api(entra: RunningEntra, sqlite_url: str, schema: strawberry.Schema) -> Iterator[InProcessApi]:
    """The API in process, without Graph credentials: its directory features say they are not configured."""
    with in_process_api(api_settings(entra, sqlite_url), schema) as running_api:
        yield running_api


@pytest.fixture
def api_with_graph(entra: RunningEntra, sqlite_url: str, schema: strawberry.Schema) -> Iterator[InProcessApi]:
    """The API in process with Microsoft Graph as the service: registered on the loopback issuer with a
    secret, MSAL and Graph keeping their real URLs, routed to loopback (`entra.entra.add_directory_user`)."""
    entra.entra.register_application(API_CLIENT_ID, secret=GRAPH_SECRET)
    credentials = Settings.model_validate(
        {"AZURE_CLIENT_ID": API_CLIENT_ID, "AZURE_CLIENT_SECRET": GRAPH_SECRET}
    )
    msal_http, http = routed_msal_http(entra), routed_async_http(entra)
    graph = GraphClient(graph_config(credentials), http, msal_http=msal_http)
    try:
        with in_process_api(
            api_settings(entra, sqlite_url), schema, graph=graph, close_at_shutdown=http.aclose
        ) as running_api:
            yield running_api
    finally:
        msal_http.close()
