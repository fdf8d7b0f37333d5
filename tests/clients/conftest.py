"""The API served over real HTTP with Microsoft Graph routed to the loopback Entra, for the
generated clients: `api_server_with_graph`, `enforcing_server` (the same, running only trusted
documents for partner callers), and the world builder on its database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from adapters.graph import GraphClient
from api.app import create_app
from api.composition import graph_config
from api.settings import Settings
from api.trusted.manifest import MANIFEST
from domain.clock import FixedClock
from domain.database import create_engine
from tests.api.client import Client
from tests.api.world import ApiWorld, api_world
from tests.support.databases import run_async
from tests.support.entra import API_CLIENT_ID, RunningEntra, routed_async_http, routed_msal_http
from tests.support.served import serve
from tests.support.server import GRAPH_SECRET, TODAY, ApiServer, api_settings


class GraphOnServerLoop:
    """An app taking a `GraphClient`, whose HTTP clients are made when the server starts (on its
    event loop) and closed when it has stopped, as the app's own Graph client would be."""

    def __init__(self, entra: RunningEntra, make_app: Callable[[GraphClient], ASGIApp]) -> None:
        self._entra = entra
        self._make_app = make_app
        self._app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            assert self._app is not None, "requests come after the lifespan started the app"
            await self._app(scope, receive, send)
            return
        credentials = Settings.model_validate(
            {"AZURE_CLIENT_ID": API_CLIENT_ID, "AZURE_CLIENT_SECRET": GRAPH_SECRET}
        )
        msal_http, http = routed_msal_http(self._entra), routed_async_http(self._entra)
        self._app = self._make_app(GraphClient(graph_config(credentials), http, msal_http=msal_http))
        try:
            await self._app(scope, receive, send)
        finally:
            await http.aclose()
            msal_http.close()


@contextmanager
def served_api_with_graph(entra: RunningEntra, database_url: str, **changes: object) -> Iterator[ApiServer]:
    """The API as `api_server` serves it, with Graph as the service (`entra.entra.add_directory_user`),
    and these settings changed (by field name)."""
    entra.entra.register_application(API_CLIENT_ID, secret=GRAPH_SECRET)
    engine = create_engine(database_url)
    clock = FixedClock(TODAY)
    settings = api_settings(entra, database_url).model_copy(update=changes)
    app = GraphOnServerLoop(
        entra, lambda graph: create_app(settings, clock=clock, engine=engine, graph=graph)
    )
    try:
        with serve(app) as url, httpx.Client(base_url=url, timeout=30) as http:
            yield ApiServer(url=url, database_url=database_url, engine=engine, clock=clock, http=http)
    finally:
        run_async(engine.dispose)


@pytest.fixture
def api_server_with_graph(entra: RunningEntra, sqlite_url: str) -> Iterator[ApiServer]:
    with served_api_with_graph(entra, sqlite_url) as server:
        yield server


@pytest.fixture
def enforcing_server(entra: RunningEntra, sqlite_url: str) -> Iterator[ApiServer]:
    """INCENTIVES_TRUSTED_DOCUMENTS=enforce with the committed trusted-documents.json: partner
    callers run only the documents the apps ship."""
    trusted = {"trusted_documents": "enforce", "trusted_documents_file": str(MANIFEST)}
    with served_api_with_graph(entra, sqlite_url, **trusted) as server:
        yield server


@pytest.fixture
def client(api_server_with_graph: ApiServer, entra: RunningEntra) -> Client:
    return Client(api_server_with_graph, entra)


@pytest.fixture
def world(api_server_with_graph: ApiServer, client: Client) -> Iterator[ApiWorld]:
    with api_world(api_server_with_graph.database_url, client) as built:
        yield built
