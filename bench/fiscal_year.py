"""Benchmark of the fiscal-year jobs: roll-forward of 1,000,000 enrollments, invitations to 100,000.

After the roll-forward (on July 1 of N+1), the new year's invitations (rules 24 and 25): the job the
automatic roll-forward queues for every ACTIVE program, run to completion by the invitation worker,
timed beside the roll-forward's own time (the target: no longer than it).

    python -m bench.fiscal_year --backend sqlite|postgres|both [--locations 100000]
        [--enrollments-per-location 10] [--postgres-url postgresql+asyncpg://postgres@127.0.0.1:5432/]

SQLite runs on a file in a temporary directory; PostgreSQL in a fresh database on the server
named by --postgres-url (or INCENTIVES_TEST_POSTGRES_URL), dropped at the end. Prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import migrations
from api.progress import ProgressMeter
from auth.principal import system_principal
from bench.seed import INVITE_PROGRAM, Scale, seed
from domain.clock import FixedClock
from domain.database import create_engine, session_factory
from domain.fiscal import fiscal_year_of
from domain.model import Program
from domain.services.invitation_jobs import queue_new_year, run_invitation_jobs
from domain.services.invitations import issue_invitations
from domain.services.rollover import roll_over_fiscal_year
from domain.uow import UnitOfWork

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/"
OPERATOR_TENANT = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True)
class Timing:
    backend: str
    operation: str
    rows: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


async def measure(database_url: str, scale: Scale, backend: str) -> list[Timing]:
    """Seed a migrated, empty database, then time the roll-forward and the invitations."""
    engine = create_engine(database_url)
    try:
        sessions = session_factory(engine)
        started = time.perf_counter()
        async with sessions() as session:
            await seed(session, scale)
        print(f"{backend}: seeded in {_since(started):.1f} s", file=sys.stderr)
        seeded = Timing(backend, "seed", scale.locations * scale.enrollments_per_location, _since(started))
        rolled = await _roll_over(sessions, scale, backend)
        new_year = await _new_year(sessions, scale, backend)
        return [seeded, rolled, new_year, await _invite(sessions, backend)]
    finally:
        await engine.dispose()


def _since(started: float) -> float:
    return time.perf_counter() - started


async def _roll_over(sessions: async_sessionmaker[AsyncSession], scale: Scale, backend: str) -> Timing:
    actor = system_principal(OPERATOR_TENANT)
    started = time.perf_counter()
    result = await roll_over_fiscal_year(
        UnitOfWork(sessions, _next_year(scale)),
        actor,
        from_fiscal_year=scale.fiscal_year,
        progress=ProgressMeter(sys.stderr),
    )
    return Timing(backend, "roll-forward", result.total, _since(started))


def _next_year(scale: Scale) -> FixedClock:
    """A few minutes into July 1 of N+1, when the server rolls N forward by itself."""
    return FixedClock(datetime(scale.fiscal_year, 7, 1, 0, 5, tzinfo=UTC))


async def _new_year(sessions: async_sessionmaker[AsyncSession], scale: Scale, backend: str) -> Timing:
    """What the automatic roll-forward leaves to the invitation worker, queued and run to completion:
    the uncarried eligible locations of the programs with criteria, OVERVIEW of the open ones."""
    actor = system_principal(OPERATOR_TENANT)
    uow = UnitOfWork(sessions, _next_year(scale))
    started = time.perf_counter()
    await queue_new_year(uow, scale.fiscal_year + 1)
    issued = await run_invitation_jobs(uow, actor, public_url="https://incentives.example")
    return Timing(backend, "new-year invitations", sum(job.invited for job in issued), _since(started))


async def _invite(sessions: async_sessionmaker[AsyncSession], backend: str) -> Timing:
    async with sessions() as session:
        program_id = (
            await session.execute(select(Program.id).where(Program.code == INVITE_PROGRAM))
        ).scalar_one()
    actor = system_principal(OPERATOR_TENANT)
    started = time.perf_counter()
    created = await issue_invitations(
        UnitOfWork(sessions), actor, program_id=program_id, progress=ProgressMeter(sys.stderr)
    )
    return Timing(backend, "invitations", created, _since(started))


@asynccontextmanager
async def sqlite_database() -> AsyncIterator[str]:
    with tempfile.TemporaryDirectory(prefix="incentives-bench-") as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}"
        await migrations.upgrade_async(url)
        yield url


@asynccontextmanager
async def postgres_database(base_url: str) -> AsyncIterator[str]:
    name = f"incentives_bench_{secrets.token_hex(6)}"
    await _admin(base_url, f'CREATE DATABASE "{name}"')
    url = make_url(base_url).set(database=name).render_as_string(hide_password=False)
    try:
        await migrations.upgrade_async(url)
        yield url
    finally:
        await _admin(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _admin(base_url: str, sql: str) -> None:
    dsn = make_url(base_url).set(drivername="postgresql", database="postgres")
    connection = await asyncpg.connect(dsn.render_as_string(hide_password=False), timeout=10)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def run(backends: Sequence[str], scale: Scale, postgres_url: str) -> list[Timing]:
    timings: list[Timing] = []
    for backend in backends:
        if backend == "sqlite":
            async with sqlite_database() as url:
                timings += await measure(url, scale, backend)
        else:
            async with postgres_database(postgres_url) as url:
                timings += await measure(url, scale, backend)
    return timings


def table(timings: Sequence[Timing]) -> str:
    """A Markdown table: backend, operation, rows, seconds, rows/s."""
    lines = ["| backend | operation | rows | seconds | rows/s |", "|---|---|---:|---:|---:|"]
    lines += [
        f"| {t.backend} | {t.operation} | {t.rows:,} | {t.seconds:.1f} | {t.rate:,.0f} |" for t in timings
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fiscal_year", description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--locations", type=int, default=100_000)
    parser.add_argument("--enrollments-per-location", type=int, default=10)
    parser.add_argument(
        "--postgres-url", default=os.environ.get("INCENTIVES_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    )
    args = parser.parse_args(argv)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    scale = Scale(args.locations, args.enrollments_per_location, fiscal_year_of(date.today()))
    print(table(asyncio.run(run(backends, scale, args.postgres_url))))


if __name__ == "__main__":
    main()
