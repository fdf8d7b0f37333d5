"""Planned reads on SQLite (adapters/driver_reads.py, `Shared`): every read of the process uses one
connection in turn, which a cancelled read leaves usable, which no request's deadline interrupts,
and which is let go when the engine is disposed."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Integer, bindparam, func, literal, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.driver_reads import driver_reads
from domain.database import create_engine, interrupt_statements
from tests.support.databases import checked_out

COUNTING = select(literal(1, Integer).label("i")).cte("counting", recursive=True)
COUNTING = COUNTING.union_all(select(COUNTING.c.i + 1).where(COUNTING.c.i < bindparam("upto", type_=Integer)))
COUNT = select(func.count().label("n")).select_from(COUNTING)


@pytest.fixture
async def engine(sqlite_url: str) -> AsyncIterator[AsyncEngine]:
    made = create_engine(sqlite_url)
    try:
        yield made
    finally:
        await made.dispose()


async def _count(engine: AsyncEngine, upto: int) -> int:
    async with driver_reads(engine) as reads:
        assert reads is not None
        [row] = await reads.rows(COUNT, {"upto": upto})
        return int(row.n)


async def test_reads_at_the_same_time_share_one_connection(engine: AsyncEngine) -> None:
    slow = asyncio.create_task(_count(engine, 1_000_000))
    await asyncio.sleep(0.02)
    assert await _count(engine, 10) == 10
    assert slow.done()  # the quick read waited its turn behind the slow one, on the same connection
    counted = await asyncio.gather(*(_count(engine, 1000 + n) for n in range(20)))
    assert counted == [1000 + n for n in range(20)]
    assert checked_out(engine) == 1  # the shared one, kept; no other was taken from the pool


async def test_a_cancelled_read_leaves_the_connection_to_the_next(engine: AsyncEngine) -> None:
    assert await _count(engine, 10) == 10
    slow = asyncio.create_task(_count(engine, 3_000_000))
    await asyncio.sleep(0.05)
    slow.cancel()
    with pytest.raises(asyncio.CancelledError):
        await slow
    assert await _count(engine, 20) == 20  # after the cancelled statement has run out
    assert checked_out(engine) == 1


async def test_no_request_interrupts_the_shared_connection(engine: AsyncEngine) -> None:
    read = asyncio.Event()

    async def request() -> None:
        await _count(engine, 10)  # the first read: this task opens the shared connection
        read.set()
        await asyncio.sleep(30)

    opener = asyncio.create_task(request())
    try:
        await read.wait()
        assert interrupt_statements(opener) == 0  # its deadline would stop others' statements
    finally:
        opener.cancel()


async def test_disposing_the_engine_closes_the_shared_connection(engine: AsyncEngine) -> None:
    before = set(threading.enumerate())  # the threads themselves: others may end meanwhile
    assert await _count(engine, 10) == 10
    started = set(threading.enumerate()) - before
    assert len(started) == 1, started  # the connection's aiosqlite thread
    (connection_thread,) = started
    await engine.dispose()
    for _ in range(100):  # its thread ends once the connection is closed
        if not connection_thread.is_alive():
            break
        await asyncio.sleep(0.02)
    assert not connection_thread.is_alive()
    assert await _count(engine, 30) == 30  # on a new connection
