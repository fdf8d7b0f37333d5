from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

import migrations
from domain.model import Base
from tests.support.databases import run_in_thread
from tests.support.pgbouncer import engine_for


def differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_the_migrated_schema_matches_the_model(database_url: str) -> None:
    engine = engine_for(database_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(differences) == []
    finally:
        await engine.dispose()


async def test_migrating_twice_is_safe(database_url: str) -> None:
    run_in_thread(lambda: migrations.upgrade(database_url))
    run_in_thread(lambda: migrations.upgrade(database_url))
    engine = engine_for(database_url)
    try:
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    finally:
        await engine.dispose()
    assert {"alembic_version", "organizations", "enrollments", "outbox"} <= tables
