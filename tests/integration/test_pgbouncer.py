"""Behind PgBouncer in transaction mode (a private Debian pgbouncer, `tests.support.pgbouncer`):
the planned reads and sessions of several processes share its few server connections without
prepared statements that outlive them, and LISTEN hears through the direct URL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.driver_reads import driver_reads
from adapters.events import PostgresBus
from domain.events import EnrollmentChanged
from domain.model import Enrollment, Location, Organization
from tests.support.databases import empty_postgres_database, run_async
from tests.support.pgbouncer import POOL_SIZE, Pooled, engine_for

pytestmark = [pytest.mark.postgres, pytest.mark.pgbouncer]

CLIENTS = 4 * POOL_SIZE  # more clients than server connections: each is shared
READS: list[Any] = [  # Select of various shapes
    select(Organization.id).where(Organization.id > bindparam("after")),
    select(Location.id, Location.name).where(Location.id > bindparam("after")),
    select(func.count(Enrollment.id)).where(Enrollment.id > bindparam("after")),
]


@pytest.fixture
async def engines(pooled_postgres: Pooled) -> AsyncIterator[list[AsyncEngine]]:
    run_async(lambda: empty_postgres_database(pooled_postgres.direct_url))
    made = [engine_for(pooled_postgres.url, pool_size=CLIENTS // 2) for _ in range(2)]
    try:
        yield made
    finally:
        for engine in made:
            await engine.dispose()


async def test_planned_reads_and_sessions_of_two_processes_share_its_server_connections(
    engines: list[AsyncEngine],
) -> None:
    async def one_client(engine: AsyncEngine, n: int) -> int:
        answered = 0
        for round_ in range(5):
            async with driver_reads(engine) as reads:
                assert reads is not None
                for statement in READS:
                    await reads.rows(statement, {"after": n + round_})
                    answered += 1
            async with engine.connect() as connection:
                await connection.execute(select(Organization.id).where(Organization.id > n))
                answered += 1
        return answered

    answered = await asyncio.gather(
        *(one_client(engines[n % 2], n) for n in range(CLIENTS)), return_exceptions=True
    )

    failures = [repr(answer) for answer in answered if not isinstance(answer, int)]
    assert failures == []
    assert sum(a for a in answered if isinstance(a, int)) == CLIENTS * 5 * (len(READS) + 1)


async def test_an_event_published_through_it_is_heard_by_the_other_process(
    engines: list[AsyncEngine],
) -> None:
    publisher, listener = PostgresBus(engines[0]), PostgresBus(engines[1])
    await publisher.start()
    await listener.start()
    try:
        assert listener.listening
        with listener.subscribe() as heard:
            # Other clients' transactions on the server connections meanwhile, as a busy API has.
            for _ in range(3):
                async with engines[1].connect() as connection:
                    await connection.execute(text("SELECT 1"))
            await publisher.publish(EnrollmentChanged(id=42))
            async with asyncio.timeout(10):
                assert await anext(heard) == EnrollmentChanged(id=42)
    finally:
        await publisher.stop()
        await listener.stop()
