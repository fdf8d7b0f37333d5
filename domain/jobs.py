"""Batch jobs (roll-forward, invitation issuing): a lease held in the database, batches, progress.

A job takes a named lease (`job_locks` row) in a transaction of its own, then works in batches,
each its own transaction that also renews the lease, so a crash loses at most the batch in flight
and a re-run resumes where the committed batches stopped (the jobs are idempotent). A second run
while the lease is live is refused; a crashed holder's lease expires and the next run takes over.

On PostgreSQL a run also holds a session-level advisory lock named after the job, on a connection
of its own, for as long as it runs. The database frees it the moment the holder's session ends (the
process died, its connection dropped): a run that gets the advisory lock knows that whoever holds
the lease row is gone, and takes the row over at once instead of waiting for it to expire.

A job given a `Stopping` (the server's, at SIGTERM) looks at it between batches: once a stop is
requested it ends after the batch in flight commits and gives its lease row and advisory lock back
at once, so another process, or the next run, takes over where it stopped.

    async with leased(sessions, clock, "rollover-2027", busy="...") as lease:
        job = Job("rollover", lease, busy="...", total=await count(sessions, ids))
        created = await run_in_batches(sessions, job, ids, 10_000, work)  # work(batch) -> created
"""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, delete, func, select, text, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.clock import Clock
from domain.database import session_connection
from domain.errors import Conflict
from domain.model import JobLock
from domain.storage import insert_ignoring_conflicts, without_jit

LEASE = timedelta(minutes=5)
DEFAULT_BATCH_SIZE = 10_000


@dataclass(frozen=True)
class Progress:
    """How far a job is: `done` of `total` rows looked at, `created` rows written so far."""

    job: str
    done: int
    total: int
    created: int


ProgressCallback = Callable[[Progress], None]


class Stopping(Protocol):
    """Whether the process asked its jobs to stop (SIGTERM): they end at the next batch boundary."""

    def requested(self) -> bool: ...


@dataclass(frozen=True)
class Lease:
    """A job's hold on its lock: who holds it, renewed with every batch."""

    name: str
    holder: str
    clock: Clock
    length: timedelta = LEASE

    def expiry(self) -> datetime:
        return self.clock.now() + self.length


@dataclass(frozen=True)
class Batch:
    """Ids in `(after, upto]`, `size` of them; `session` is in the batch's transaction."""

    session: AsyncSession
    after: int
    upto: int
    size: int

    def covers(self, column: SQLColumnExpression[Any]) -> ColumnElement[bool]:
        return column.between(self.after + 1, self.upto)


def new_holder() -> str:
    """Who holds a lease, for people reading `job_locks`: host, process and a random part."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


@asynccontextmanager
async def leased(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, name: str, *, busy: str
) -> AsyncIterator[Lease]:
    """Hold the lease `name` for the block; `Conflict(busy)` when another live run holds it."""
    lease = Lease(name, new_holder(), clock)
    async with _session_lock(sessions, name, busy) as holder_alone:
        await _take(sessions, lease, busy, take_over=holder_alone)
        try:
            yield lease
        finally:
            await _give_back(sessions, lease)


def advisory_key(name: str) -> int:
    """The job's PostgreSQL advisory lock: a 64-bit number from its name."""
    return int.from_bytes(hashlib.sha256(f"incentives-job:{name}".encode()).digest()[:8], "big", signed=True)


@asynccontextmanager
async def _session_lock(
    sessions: async_sessionmaker[AsyncSession], name: str, busy: str
) -> AsyncIterator[bool]:
    """On PostgreSQL: the job's advisory lock for the block (`Conflict(busy)` when a live run holds
    it), yielding True; elsewhere False (the lease row alone decides)."""
    engine = sessions.kw["bind"]
    if engine.dialect.name != "postgresql":
        yield False
        return
    key = advisory_key(name)
    async with session_connection(engine) as connection:  # behind PgBouncer: the direct URL
        taken = (await connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key})).scalar()
        await connection.commit()  # a session-level lock: it outlives the transaction
        if not taken:
            raise Conflict(busy)
        try:
            yield True
        finally:
            await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            await connection.commit()


async def _take(
    sessions: async_sessionmaker[AsyncSession], lease: Lease, busy: str, *, take_over: bool
) -> None:
    """Insert the lock row, or take it over when its holder's lease ran out (or, `take_over`, its
    holder is known to be gone); one transaction."""
    now = lease.clock.now()
    values = {"name": lease.name, "holder": lease.holder, "acquired_at": now, "expires_at": lease.expiry()}
    async with sessions() as session, session.begin():
        inserted = await session.execute(insert_ignoring_conflicts(session, JobLock).values(**values))
        if _rowcount(inserted):
            return
        # Several runs may find the same expired lease; the row lock lets exactly one take it.
        stale = update(JobLock).where(JobLock.name == lease.name)
        if not take_over:
            stale = stale.where(JobLock.expires_at < now)
        if not _rowcount(await session.execute(stale.values(**values))):
            raise Conflict(busy)


async def renew(session: AsyncSession, lease: Lease, busy: str) -> None:
    """Push the lease forward inside a batch's transaction; lost to a newer run, the batch fails."""
    still_ours = (
        update(JobLock)
        .where(JobLock.name == lease.name, JobLock.holder == lease.holder)
        .values(expires_at=lease.expiry())
    )
    if not _rowcount(await session.execute(still_ours)):
        raise Conflict(busy)


async def _give_back(sessions: async_sessionmaker[AsyncSession], lease: Lease) -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            delete(JobLock).where(JobLock.name == lease.name, JobLock.holder == lease.holder)
        )


def _rowcount(result: object) -> int:
    return result.rowcount if isinstance(result, CursorResult) else 0


Work = Callable[["Batch"], Awaitable[int]]


@dataclass(frozen=True)
class Job:
    """One run of a batch job: its name (for progress), lease, refusal message and reporting."""

    name: str
    lease: Lease
    busy: str
    total: int
    progress: ProgressCallback | None = None
    stopping: Stopping | None = None


async def run_in_batches(
    sessions: async_sessionmaker[AsyncSession], job: Job, ids: Select[int], size: int, work: Work
) -> int:
    """Keyset batches over `ids` (one id column), each its own transaction; returns rows created.

    `work` does a batch's writes and returns how many rows it created; they commit together with
    the lease renewal, so a batch happened entirely or not at all. Progress is reported after
    each commit (an exception raised by the callback stops the job like a crash would). Once
    `job.stopping` is requested no further batch starts: it returns what was created so far.
    """
    after, done, created = 0, 0, 0
    while job.stopping is None or not job.stopping.requested():
        async with sessions() as session, session.begin():
            upto, size_found = await _bounds(session, ids, after, size)
            if not size_found:
                return created
            await renew(session, job.lease, job.busy)
            await without_jit(session)
            created += await work(Batch(session, after, upto, size_found))
        after, done = upto, done + size_found
        if job.progress is not None:
            job.progress(Progress(job.name, done, max(job.total, done), created))
    return created


async def _bounds(session: AsyncSession, ids: Select[int], after: int, size: int) -> tuple[int, int]:
    """The last id and the count of the next `size` ids after `after`, in one statement."""
    column = ids.selected_columns[0]
    window = ids.where(column > after).order_by(column).limit(size).subquery()
    only = window.c[0]
    row = (await session.execute(select(func.max(only), func.count(only)))).one()
    return int(row[0] or 0), int(row[1])


async def count(sessions: async_sessionmaker[AsyncSession], ids: Select[int]) -> int:
    """How many rows a job will look at, for its progress."""
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(ids.subquery())) or 0)
