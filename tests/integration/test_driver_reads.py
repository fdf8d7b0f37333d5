"""Planned reads straight through asyncpg (adapters/driver_reads.py) on PostgreSQL: the parameters
as SQLAlchemy would bind them, and the connections the reads keep between requests: taken again
by the next read, at most a quarter of the pool, never one whose read was cancelled or that the
database closed, closed when the engine is disposed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import Integer, Text, bindparam, cast, column, func, literal, select, table, text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.driver_reads import driver_reads
from domain.database import create_engine
from domain.model import Enrollment, Program
from domain.queries.pages import InIds, Rows, rows_by_ids
from tests.support.databases import checked_out, empty_postgres_database

pytestmark = pytest.mark.postgres

PROGRAMS = Rows(Program.__table__, keep=("id", "code"))
BY_IDS = PROGRAMS.select().where(InIds(Program.__table__.c.id, "ids")).order_by(Program.__table__.c.id)
# A literal (the statement's own value), a parameter given at execution, and one with a default.
MIXED = select(
    literal(7).label("seven"),
    bindparam("given", type_=Program.__table__.c.code.type).label("given"),
    bindparam("defaulted", "fallback").label("defaulted"),
)


@pytest.fixture
async def engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    await empty_postgres_database(postgres_url)
    made = create_engine(postgres_url, pool_size=8)
    try:
        yield made
    finally:
        await made.dispose()


async def test_parameters_are_bound_as_sqlalchemy_binds_them(engine: AsyncEngine) -> None:
    async with driver_reads(engine) as reads:
        assert reads is not None
        assert [tuple(row) for row in await reads.rows(MIXED, {"given": "x"})] == [(7, "x", "fallback")]
        given = {"given": "x", "defaulted": "mine"}
        assert [tuple(row) for row in await reads.rows(MIXED, given)] == [(7, "x", "mine")]
        assert list(await reads.rows(BY_IDS, {"ids": [1, 2]})) == []


async def _backend_pid(engine: AsyncEngine) -> int:
    async with driver_reads(engine) as reads:
        assert reads is not None
        (row,) = await reads.rows(select(func.pg_backend_pid().label("pid")), {})
        return int(row.pid)


async def test_the_next_read_takes_the_connection_the_last_one_kept(engine: AsyncEngine) -> None:
    first = await _backend_pid(engine)

    assert await _backend_pid(engine) == first
    assert checked_out(engine) == 1  # kept by the reads, not back in the pool


async def test_the_reads_keep_at_most_a_quarter_of_the_pool(engine: AsyncEngine) -> None:
    started = asyncio.Event()

    async def read() -> None:
        async with driver_reads(engine) as reads:
            assert reads is not None
            await reads.rows(select(literal(1).label("one")), {})
            await started.wait()

    tasks = [asyncio.create_task(read()) for _ in range(6)]
    await asyncio.sleep(0.2)
    assert checked_out(engine) == 6
    started.set()
    await asyncio.gather(*tasks)

    assert checked_out(engine) == 2  # 8 // 4 kept; the others went back


async def test_a_connection_whose_read_was_cancelled_is_not_kept(engine: AsyncEngine) -> None:
    running = asyncio.Event()

    async def slow() -> None:
        async with driver_reads(engine) as reads:
            assert reads is not None
            running.set()
            await reads.rows(select(func.pg_sleep(5).label("slept")), {})

    task = asyncio.create_task(slow())
    await running.wait()
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert checked_out(engine) == 0  # invalidated: neither kept nor pooled


async def test_a_kept_connection_the_database_closed_is_let_go_for_another(engine: AsyncEngine) -> None:
    kept = await _backend_pid(engine)
    async with engine.connect() as other:  # as a restart would: the server ends the kept session
        await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": kept})
    await asyncio.sleep(0.2)

    replaced = await _backend_pid(engine)  # raised "connection is closed" when it was taken again

    assert replaced != kept
    assert await _backend_pid(engine) == replaced  # and the new one is kept in its place


async def test_a_read_that_raised_keeps_its_connection_usable(engine: AsyncEngine) -> None:
    before = await _backend_pid(engine)

    with pytest.raises(Exception, match="invalid input syntax"):
        await _not_a_number(engine)

    assert await _backend_pid(engine) == before  # kept, and it answers the next read


async def _not_a_number(engine: AsyncEngine) -> None:
    async with driver_reads(engine) as reads:
        assert reads is not None
        await reads.rows(select(cast(literal("seven"), Integer).label("never")), {})


async def test_disposing_the_engine_closes_the_connections_kept(postgres_url: str) -> None:
    engine = create_engine(postgres_url, pool_size=4)
    kept = await _backend_pid(engine)

    await engine.dispose()

    watcher = create_engine(postgres_url, pool_size=1)
    try:
        for _ in range(200):  # a closed connection's backend exits within moments
            if not await _backend_alive(watcher, kept):
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail(f"backend {kept} still connected after the engine was disposed")
    finally:
        await watcher.dispose()


async def _backend_alive(engine: AsyncEngine, pid: int) -> bool:
    async with engine.connect() as connection:
        found = await connection.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
        )
        return bool(found.scalar_one())


async def test_a_read_of_one_id_is_planned_once_by_postgresql(engine: AsyncEngine) -> None:
    """A prepared `id = ANY($1)` is planned again at every run (PostgreSQL expects an array of
    unknown length to cost more under a generic plan); `rows_by_ids` of one id is `id = $1`."""
    prepared: Any = (  # the rows of PostgreSQL's view of this connection's prepared statements
        select(column("generic_plans", Integer), column("custom_plans", Integer))
        .select_from(table("pg_prepared_statements"))
        .where(column("statement", Text).like("%FROM enrollments%"))
    )
    async with driver_reads(engine) as reads:
        assert reads is not None
        for _ in range(10):
            await rows_by_ids(reads, Rows(Enrollment.__table__), [1])
        ((generic, custom),) = [tuple(row) for row in await reads.rows(prepared, {})]

    assert custom <= 5 < generic + custom
    assert generic >= 5
