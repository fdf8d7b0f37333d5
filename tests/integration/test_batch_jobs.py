"""The batch jobs under a lease: a second run meanwhile is refused, a crashed run is resumed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import insert, text

from domain.clock import FixedClock
from domain.database import session_connection, session_factory
from domain.errors import Conflict
from domain.jobs import Progress, ProgressCallback, Stopping, advisory_key
from domain.model import AuditEvent, Enrollment, Invitation, JobLock, OutboxMessage
from domain.services import invitations
from domain.services.rollover import RolloverResult, roll_over_fiscal_year
from domain.uow import UnitOfWork
from domain.vocabulary import AgreementKind, CriterionKind, PartnerType
from tests.support import actors
from tests.support.databases import run_async
from tests.support.pgbouncer import engine_for
from tests.support.world import FISCAL_YEAR, TODAY, World, year_ended

RESELLER = (CriterionKind.RESELLER_AGREEMENT,)
Job = Callable[[UnitOfWork], Awaitable[object]]
RollJob = Callable[[UnitOfWork], Awaitable[RolloverResult]]
InviteJob = Callable[[UnitOfWork], Awaitable[int]]


class Crash(Exception):
    """Stands for the process dying between two batches."""


def crash_after_first_batch(progress: Progress) -> None:
    raise Crash(f"stopped after {progress.done} rows")


class StopAfterFirstBatch:
    """The server's stop signal (SIGTERM, `domain.jobs.Stopping`), requested once a batch committed."""

    def __init__(self) -> None:
        self.asked = False

    def requested(self) -> bool:
        return self.asked

    def progress(self, progress: Progress) -> None:
        self.asked = True


def in_another_process(database_url: str, job: Job, at: datetime = TODAY) -> BaseException | None:
    """Run `job` on an engine and event loop of its own (another thread); what it raised, if anything."""

    async def run() -> BaseException | None:
        engine = engine_for(database_url)
        try:
            await job(UnitOfWork(session_factory(engine), FixedClock(at)))
        except Exception as error:
            return error
        finally:
            await engine.dispose()
        return None

    return run_async(run)


async def five_enrolled(world: World) -> None:
    program_id = await world.program(criteria=RESELLER)
    org = await world.organization()
    await world.agree(org, AgreementKind.RESELLER, AgreementKind.PARTNER_PROGRAM)
    for n in range(5):
        location_id = await world.location(org, f"Loc {n}", PartnerType.DIRECT_RESELLER)
        await world.enrolled(org, location_id, program_id, tax_expires=date(2028, 1, 1))
    world.clock.at = year_ended(FISCAL_YEAR)  # FY 2027 may roll forward now (rule 23)


async def five_invitable(world: World) -> int:
    for n in range(5):
        org = await world.organization(ga_email=f"ga{n}@example.com", name=f"Org {n}")
        await world.location(org)
        await world.agree(org, AgreementKind.RESELLER)
    return await world.program(criteria=RESELLER)


def roll(
    world: World,
    progress: ProgressCallback | None = None,
    batch_size: int = 2,
    stopping: Stopping | None = None,
) -> RollJob:
    return lambda uow: roll_over_fiscal_year(
        uow,
        world.operator,
        from_fiscal_year=FISCAL_YEAR,
        progress=progress,
        batch_size=batch_size,
        stopping=stopping,
    )


def invite(
    world: World, program_id: int, progress: ProgressCallback | None = None, stopping: Stopping | None = None
) -> InviteJob:
    return lambda uow: invitations.issue_invitations(
        uow, world.operator, program_id=program_id, progress=progress, batch_size=2, stopping=stopping
    )


async def test_a_roll_forward_started_while_one_runs_is_refused(world: World, database_url: str) -> None:
    await five_enrolled(world)
    refused: list[BaseException | None] = []

    def second_run(progress: Progress) -> None:
        if not refused:
            refused.append(in_another_process(database_url, roll(world), world.clock.at))

    result = await roll(world, progress=second_run)(world.uow())
    assert result == RolloverResult(carried=5, action_required=0, ineligible=0, inactive=0)
    [error] = refused
    assert isinstance(error, Conflict)
    assert str(error) == f"a roll-forward of FY {FISCAL_YEAR} is already running"
    assert await world.count(JobLock) == 0


async def test_issuing_started_while_it_runs_is_refused(world: World, database_url: str) -> None:
    program_id = await five_invitable(world)
    refused: list[BaseException | None] = []

    def second_run(progress: Progress) -> None:
        if not refused:
            refused.append(in_another_process(database_url, invite(world, program_id)))

    assert await invite(world, program_id, progress=second_run)(world.uow()) == 5
    [error] = refused
    assert isinstance(error, Conflict)
    assert "already being issued" in str(error)
    assert await world.count(Invitation) == 5


async def test_a_roll_forward_crashed_after_a_batch_resumes_without_duplicates(world: World) -> None:
    await five_enrolled(world)
    with pytest.raises(Crash):
        await roll(world, progress=crash_after_first_batch)(world.uow())
    assert await world.count(Enrollment, Enrollment.fiscal_year == FISCAL_YEAR + 1) == 2
    world.clock.at += timedelta(minutes=1)
    resumed = await roll(world)(world.uow())
    assert resumed == RolloverResult(carried=3, action_required=0, ineligible=0, inactive=0)
    carried = await world.rows(Enrollment, Enrollment.fiscal_year == FISCAL_YEAR + 1)
    assert len(carried) == len({e.carried_from_id for e in carried}) == 5
    assert await world.count(AuditEvent, AuditEvent.action == "rollOverFiscalYear") == 2  # one per run


async def test_issuing_crashed_after_a_batch_resumes_without_duplicates(world: World) -> None:
    program_id = await five_invitable(world)
    with pytest.raises(Crash):
        await invite(world, program_id, progress=crash_after_first_batch)(world.uow())
    assert await world.count(Invitation) == 2
    assert await invite(world, program_id)(world.uow()) == 3
    assert await world.count(Invitation) == await world.count(Enrollment) == 5
    messages = await world.rows(OutboxMessage)
    assert len(messages) == len({m.message_id for m in messages}) == 5


async def test_a_roll_forward_told_to_stop_ends_after_the_batch_in_flight_and_another_run_carries_the_rest(
    world: World, database_url: str
) -> None:
    await five_enrolled(world)
    stop = StopAfterFirstBatch()

    stopped = await roll(world, progress=stop.progress, stopping=stop)(world.uow())

    assert stopped == RolloverResult(carried=2, action_required=0, ineligible=0, inactive=0)
    assert await world.count(Enrollment, Enrollment.fiscal_year == FISCAL_YEAR + 1) == 2
    assert await world.count(JobLock) == 0
    # At once (the clock has not moved): the lease row and, on PostgreSQL, the advisory lock are free.
    assert in_another_process(database_url, roll(world), world.clock.at) is None
    carried = await world.rows(Enrollment, Enrollment.fiscal_year == FISCAL_YEAR + 1)
    assert len(carried) == len({e.carried_from_id for e in carried}) == 5


async def test_issuing_told_to_stop_ends_after_the_batch_in_flight_and_another_run_issues_the_rest(
    world: World, database_url: str
) -> None:
    program_id = await five_invitable(world)
    stop = StopAfterFirstBatch()

    assert await invite(world, program_id, progress=stop.progress, stopping=stop)(world.uow()) == 2
    assert await world.count(Invitation) == 2
    assert await world.count(JobLock) == 0
    assert in_another_process(database_url, invite(world, program_id)) is None
    assert await world.count(Invitation) == await world.count(Enrollment) == 5
    messages = await world.rows(OutboxMessage)
    assert len(messages) == len({m.message_id for m in messages}) == 5


async def test_a_crashed_holders_expired_lease_is_taken_over(world: World) -> None:
    await five_enrolled(world)
    await hold_lease(world, f"rollover-{FISCAL_YEAR}", expires_in=timedelta(seconds=-1))
    assert (await roll(world)(world.uow())).carried == 5
    assert await world.count(JobLock) == 0


async def test_a_live_lease_of_another_run_is_respected(world: World, database_url: str) -> None:
    await five_enrolled(world)
    name = f"rollover-{FISCAL_YEAR}"
    await hold_lease(world, name, expires_in=timedelta(minutes=4))
    async with holding_the_advisory_lock(world, name):  # on PostgreSQL a live run holds it too
        with pytest.raises(Conflict):
            await roll(world)(world.uow())
    assert await world.count(Enrollment, Enrollment.fiscal_year == FISCAL_YEAR + 1) == 0
    assert await world.count(JobLock) == 1  # still the other run's


@pytest.mark.postgres
async def test_on_postgresql_a_gone_holders_lease_is_taken_over_at_once(
    world: World, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("session-level advisory locks are PostgreSQL's")
    await five_enrolled(world)
    # The row of a run whose process died a minute ago: its lease has 4 minutes left, but its
    # session (and so its advisory lock) ended with it.
    await hold_lease(world, f"rollover-{FISCAL_YEAR}", expires_in=timedelta(minutes=4))

    result = await roll(world)(world.uow())

    assert result.carried == 5
    assert await world.count(JobLock) == 0


@asynccontextmanager
async def holding_the_advisory_lock(world: World, name: str) -> AsyncIterator[None]:
    """Hold the job's advisory lock as a live run would (PostgreSQL); elsewhere nothing."""
    engine = world.sessions.kw["bind"]
    if engine.dialect.name != "postgresql":
        yield
        return
    key = advisory_key(name)
    async with session_connection(engine) as connection:  # behind PgBouncer: the direct URL
        await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        try:
            yield
        finally:
            await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})


async def test_progress_counts_every_row_looked_at(world: World) -> None:
    await five_enrolled(world)
    seen: list[Progress] = []
    await roll(world, progress=seen.append)(world.uow())
    assert [(p.done, p.total, p.created) for p in seen] == [(2, 5, 2), (4, 5, 4), (5, 5, 5)]


async def hold_lease(world: World, name: str, *, expires_in: timedelta) -> None:
    now = world.clock.now()
    async with world.sessions() as session:
        values = {"name": name, "holder": f"crashed-{actors.new_guid()}", "acquired_at": now}
        await session.execute(insert(JobLock).values(**values, expires_at=now + expires_in))
        await session.commit()
