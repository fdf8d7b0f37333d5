"""The API served like `api_server`, but with settings of the test's choosing, and row counts.

with configured_api(sqlite_url, authority=entra.base_url, accept_v1_tokens=True) as api:
    api.graphql(...)
assert written_rows(sqlite_url) == NOTHING_WRITTEN
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import text

from api.app import create_app
from api.settings import Settings
from domain.clock import FixedClock
from tests.support.databases import run_async
from tests.support.entra import API_CLIENT_ID, OPERATOR_TENANT_ID
from tests.support.pgbouncer import engine_for
from tests.support.served import serve
from tests.support.server import TODAY, ApiServer
from tests.support.trusted import manifest_file

# Every table a mutation or a first sign-in could write to.
WATCHED_TABLES = (
    "organizations",
    "organization_tenants",
    "users",
    "role_assignments",
    "programs",
    "agreements",
    "invitations",
    "audit_events",
    "outbox",
)
NOTHING_WRITTEN = dict.fromkeys(WATCHED_TABLES, 0)


def configured_settings(database_url: str, *, authority: str, **updates: Any) -> Settings:
    """`api_server`'s settings trusting `authority`, with `updates` by field name."""
    settings = Settings.model_validate(
        {
            "DATABASE_URL": database_url,
            "AZURE_CLIENT_ID": API_CLIENT_ID,
            "AZURE_TENANT_ID": OPERATOR_TENANT_ID,
            "AZURE_AUTHORITY_HOST": authority,
            "INCENTIVES_KEY_REFRESH_INTERVAL": 0,
            "INCENTIVES_ROLLOVER_INTERVAL": 0,  # a test that wants the automatic roll-forward says so
            "INCENTIVES_TRUSTED_DOCUMENTS_FILE": str(manifest_file()),
        }
    )
    return settings.model_copy(update=updates)


@contextmanager
def configured_api(database_url: str, *, authority: str, **updates: Any) -> Iterator[ApiServer]:
    """Serve the API on `database_url` (migrated), trusting `authority`, for the block."""
    engine = engine_for(database_url)
    clock = FixedClock(TODAY)
    app = create_app(
        configured_settings(database_url, authority=authority, **updates), clock=clock, engine=engine
    )
    try:
        with serve(app) as url, httpx.Client(base_url=url, timeout=30) as http:
            yield ApiServer(url=url, database_url=database_url, engine=engine, clock=clock, http=http)
    finally:
        run_async(engine.dispose)


def written_rows(database_url: str) -> dict[str, int]:
    """How many rows each watched table holds, read through an engine of its own."""

    async def count() -> dict[str, int]:
        engine = engine_for(database_url)
        try:
            async with engine.connect() as connection:
                return {
                    table: int((await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())  # noqa: S608 - fixed names
                    for table in WATCHED_TABLES
                }
        finally:
            await engine.dispose()

    return run_async(count)
