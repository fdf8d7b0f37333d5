"""The API served for real over HTTP: the `api_server` fixture and a SQL statement counter.

For tests of HTTP itself (status codes, headers, request ids, GraphiQL, the websocket); GraphQL
behaviour is tested in process (`tests.support.in_process`, fixture `api`).

    def test_viewer(api_server: ApiServer, entra: RunningEntra) -> None:
        reply = api_server.graphql("{ viewer { objectId } }", token=personas.user(entra, Tenant()).token)

Each test gets a fresh migrated SQLite database, an app from `create_app` that trusts the
session's loopback Entra, and uvicorn on an ephemeral port in a background thread. The app's
engine is created here so `api_server.statements` can count what the server sends to the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.driver_reads import every_statement
from api.app import create_app
from api.settings import Settings
from domain.clock import FixedClock
from domain.database import create_engine
from tests.support.databases import run_async
from tests.support.entra import (
    API_CLIENT_ID,
    OPERATOR_TENANT_ID,
    RunningEntra,
)
from tests.support.served import serve
from tests.support.trusted import manifest_file

# A Saturday in fiscal year 2027 (FY N runs July 1 of N-1 to June 30 of N).
TODAY = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
CURRENT_FISCAL_YEAR = 2027
# The API's client secret on the loopback issuer, for `api_with_graph`.
GRAPH_SECRET = "incentives api graph secret"


@dataclass
class StatementLog:
    """What the engine sent while counting: `len(log)` statements, their SQL in `log.statements`."""

    statements: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.statements)


@contextmanager
def count_statements(engine: AsyncEngine) -> Iterator[StatementLog]:
    """Count every statement `engine` executes inside the block (before_cursor_execute events, and
    the planned read's statements on the driver, which those events do not see)."""
    with every_statement(engine) as statements:
        yield StatementLog(statements)


@dataclass
class ApiServer:
    """The served API: `graphql(...)` posts a query (sync) and keeps `last_status`/`last_headers`."""

    url: str
    database_url: str
    engine: AsyncEngine
    clock: FixedClock
    http: httpx.Client
    last_status: int | None = None
    last_headers: httpx.Headers = field(default_factory=httpx.Headers)

    def graphql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        response = self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=sent
        )
        self.last_status, self.last_headers = response.status_code, response.headers
        body: dict[str, Any] = response.json()
        return body

    @contextmanager
    def statements(self) -> Iterator[StatementLog]:
        """Count the SQL statements the server runs inside the block."""
        with count_statements(self.engine) as log:
            yield log


def api_settings(entra: RunningEntra, database_url: str) -> Settings:
    """Settings that trust the loopback Entra, as `serve` would read them from the environment."""
    return Settings.model_validate(
        {
            "DATABASE_URL": database_url,
            "AZURE_CLIENT_ID": API_CLIENT_ID,
            "AZURE_TENANT_ID": OPERATOR_TENANT_ID,
            "AZURE_AUTHORITY_HOST": entra.base_url,
            "INCENTIVES_KEY_REFRESH_INTERVAL": 0,
            # Reminders would queue mail behind the tests' backs; a test that wants them says so.
            "INCENTIVES_TAX_REMINDER_INTERVAL": 0,
            # Likewise the automatic roll-forward (rule 15); its own tests turn it on.
            "INCENTIVES_ROLLOVER_INTERVAL": 0,
            # The operations the apps ship, trusted (the default mode, log, needs a manifest).
            "INCENTIVES_TRUSTED_DOCUMENTS_FILE": str(manifest_file()),
        }
    )


@pytest.fixture
def api_server(entra: RunningEntra, sqlite_url: str) -> Iterator[ApiServer]:
    """The API without Graph credentials: its directory features say they are not configured."""
    with served_api(entra, sqlite_url) as server:
        yield server


@contextmanager
def served_api(entra: RunningEntra, sqlite_url: str) -> Iterator[ApiServer]:
    """The API on a fresh engine and a fixed clock, served for the duration of the block."""
    engine = create_engine(sqlite_url)
    clock = FixedClock(TODAY)
    app = create_app(api_settings(entra, sqlite_url), clock=clock, engine=engine)
    try:
        with serve(app) as url, httpx.Client(base_url=url, timeout=30) as http:
            yield ApiServer(url=url, database_url=sqlite_url, engine=engine, clock=clock, http=http)
    finally:
        run_async(engine.dispose)


def without_cost(body: dict[str, Any]) -> dict[str, Any]:
    """A response body without `extensions.cost` (its `remaining` and `resetAt` change with every
    request), for tests that compare whole bodies."""
    extensions = {k: v for k, v in body.get("extensions", {}).items() if k != "cost"}
    found = {k: v for k, v in body.items() if k != "extensions"}
    return {**found, "extensions": extensions} if extensions else found
