"""A request stopped at its deadline stops its SQLite statement too (PostgreSQL's: asyncpg cancels)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import exc, text

from domain.database import create_engine, interrupt_statements

ENDLESS = text(
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000000000) "
    "SELECT count(*) FROM n"
)


async def test_a_tasks_running_sqlite_statement_is_interrupted(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)

    async def endless() -> None:
        async with engine.connect() as connection:
            await connection.execute(ENDLESS)

    try:
        running = asyncio.create_task(endless())
        await asyncio.sleep(0.3)

        told = interrupt_statements(running)

        with pytest.raises(exc.OperationalError, match="interrupted"):
            await asyncio.wait_for(running, 30)  # uninterrupted, it would run for hours
        assert told == 1
        async with engine.connect() as connection:  # and the connection serves the next request
            assert (await connection.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await engine.dispose()


async def test_a_task_without_statements_has_nothing_to_interrupt(sqlite_url: str) -> None:
    idle = asyncio.create_task(asyncio.sleep(0))
    assert interrupt_statements(idle) == 0
    await idle
