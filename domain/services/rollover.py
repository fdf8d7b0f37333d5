"""The fiscal-year roll-forward: every ENROLLED enrollment of N gets one of N+1, set-based and in batches.

It is carried ENROLLED only while the location meets the program's criteria and its organization's
PARTNER_PROGRAM agreement is active (rule 14; a program open to all asks for no agreement, rule 25);
otherwise INELIGIBLE (or ACTION_REQUIRED for a tax
profile not valid on July 1, INACTIVE for a discontinued program).

Each batch of ENROLLED enrollments of N (keyset over their ids) is one transaction of a constant
number of statements: the N+1 enrollments are decided and written by one `INSERT ... SELECT`
(eligibility, program status and the newest tax profile on July 1 all in SQL), then counted, and
the organizations touched are audited once per run. Only rows without an N+1 enrollment are
carried, so a re-run after a crash resumes, and a second run changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVarTuple

from sqlalchemy import CTE, ColumnElement, Date, Select, case, exists, func, literal, null, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from domain.access import Action, Actor
from domain.audit import RunEvent, record_organizations
from domain.eligibility_sql import has_agreement, meets_criteria_of
from domain.fiscal import checked_fiscal_year, fiscal_year_start, require_fiscal_year_ended
from domain.jobs import (
    DEFAULT_BATCH_SIZE,
    Batch,
    Job,
    ProgressCallback,
    Stopping,
    count,
    leased,
    run_in_batches,
)
from domain.model import (
    Enrollment,
    Location,
    Organization,
    Program,
    ProgramCriterion,
    UtcDateTime,
)
from domain.queries.enrollments import newest_tax_expiry
from domain.rollover import next_year_status_sql, still_eligible_sql
from domain.services.guards import require
from domain.shown_status import missing_profiles_reason
from domain.storage import insert_ignoring_conflicts, refresh_statistics
from domain.uow import UnitOfWork
from domain.vocabulary import AgreementKind, EnrollmentStatus, ProgramStatus

Ts = TypeVarTuple("Ts")
CARRIED_COLUMNS = (
    "location_id",
    "program_id",
    "fiscal_year",
    "status",
    "payment_profile_id",
    "earnings_start_date",
    "action_required_reason",
    "carried_from_id",
    "created_at",
    "updated_at",
)


@dataclass(frozen=True)
class RolloverResult:
    carried: int  # ENROLLED in N+1
    action_required: int  # eligible, but the tax profile is not valid on July 1
    ineligible: int  # no longer eligible
    inactive: int  # the program was discontinued

    def __add__(self, other: RolloverResult) -> RolloverResult:
        return RolloverResult(
            self.carried + other.carried,
            self.action_required + other.action_required,
            self.ineligible + other.ineligible,
            self.inactive + other.inactive,
        )

    @property
    def total(self) -> int:
        return self.carried + self.action_required + self.ineligible + self.inactive


@dataclass(frozen=True)
class Run:
    """What every batch of one run needs."""

    from_year: int
    first_day: date  # July 1, the first day of N+1
    now: datetime
    audit: RunEvent

    @property
    def next_year(self) -> int:
        return self.from_year + 1


def busy_message(from_fiscal_year: int) -> str:
    return f"a roll-forward of FY {from_fiscal_year} is already running"


async def roll_over_fiscal_year(
    uow: UnitOfWork,
    actor: Actor,
    *,
    from_fiscal_year: int,
    progress: ProgressCallback | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    stopping: Stopping | None = None,
) -> RolloverResult:
    """Carry every ENROLLED enrollment of N without one in N+1 into N+1; again, it does nothing.

    Raises `Invalid` before July 1 of N+1 (rule 23), `Conflict` while another run of the same year
    holds the lease. Once `stopping` is requested it ends after the batch in flight, returning
    what this run carried; the next run carries the rest.
    """
    require(actor, Action.OPERATE)
    checked_fiscal_year(from_fiscal_year, "fromFiscalYear")
    require_fiscal_year_ended(from_fiscal_year, uow.clock.today(), "fromFiscalYear")
    now = uow.clock.now()
    run = Run(
        from_fiscal_year,
        fiscal_year_start(from_fiscal_year + 1),
        now,
        RunEvent(actor, "rollOverFiscalYear", now),
    )
    busy = busy_message(from_fiscal_year)
    sources = _enrolled_ids(from_fiscal_year)
    totals = RolloverResult(0, 0, 0, 0)

    async def carry(batch: Batch) -> int:
        nonlocal totals
        made = await _carry_batch(batch, run)
        totals += made
        return made.total

    async with leased(uow.sessions, uow.clock, f"rollover-{from_fiscal_year}", busy=busy) as lease:
        job = Job("rollover", lease, busy, await count(uow.sessions, sources), progress, stopping)
        await run_in_batches(uow.sessions, job, sources, batch_size, carry)
        if totals.total:  # N+1's enrollments, new to the planner: the new year's invitations probe them
            async with uow.sessions() as session, session.begin():
                await refresh_statistics(session, Enrollment)
    return totals


def _enrolled_ids(from_fiscal_year: int) -> Select[int]:
    return select(Enrollment.id).where(
        Enrollment.fiscal_year == from_fiscal_year, Enrollment.status == EnrollmentStatus.ENROLLED
    )


async def _carry_batch(batch: Batch, run: Run) -> RolloverResult:
    """Insert the batch's N+1 enrollments, count them by status, audit their organizations."""
    session = batch.session
    before = await _max_enrollment_id(session)
    taken_over = await _take_over_invited(batch, run)
    # ON CONFLICT DO NOTHING: a partner enrolling in N+1 meanwhile keeps their own enrollment.
    carry = insert_ignoring_conflicts(session, Enrollment)
    await session.execute(carry.from_select(CARRIED_COLUMNS, _carried(batch, run)))
    made = MadeBy(batch, run, before)
    organizations = select(Location.organization_id).join(Enrollment, Enrollment.location_id == Location.id)
    await record_organizations(session, run.audit, made(organizations))
    if taken_over.location_ids:
        taken = select(Location.organization_id).where(Location.id.in_(taken_over.location_ids))
        await record_organizations(session, run.audit, taken)
    inserted = await _counts(session, made(select(Enrollment.status, func.count())))
    return inserted + taken_over.counts


@dataclass(frozen=True)
class TakenOver:
    counts: RolloverResult
    location_ids: list[int]


async def _take_over_invited(batch: Batch, run: Run) -> TakenOver:
    """Rule 16: where an INVITED enrollment of N+1 already waits for a carried (location, program),
    it takes the carried status in place (no second row), and its invitation leaves the home page."""
    carried = _carried(batch, run).subquery("carried")
    columns = carried.c
    statement = (
        update(Enrollment)
        .where(
            Enrollment.location_id == columns.location_id,
            Enrollment.program_id == columns.program_id,
            Enrollment.fiscal_year == run.next_year,
            Enrollment.status == EnrollmentStatus.INVITED,
        )
        .values(
            status=columns.status,
            payment_profile_id=columns.payment_profile_id,
            earnings_start_date=columns.earnings_start_date,
            action_required_reason=columns.action_required_reason,
            carried_from_id=columns.carried_from_id,
            updated_at=columns.updated_at,
            version=Enrollment.version + 1,  # a partner's concurrent change of it then conflicts
        )
        .returning(Enrollment.status, Enrollment.location_id)
        .execution_options(synchronize_session=False)
    )
    rows = (await batch.session.execute(statement)).all()
    found: dict[EnrollmentStatus, int] = {}
    for status, _ in rows:
        found[status] = found.get(status, 0) + 1
    return TakenOver(_result(found), sorted({location_id for _, location_id in rows}))


async def _max_enrollment_id(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.coalesce(func.max(Enrollment.id), 0))) or 0)


@dataclass(frozen=True)
class MadeBy:
    """Narrows a query of `Enrollment` to the rows one batch inserted: newer than `before`, carried
    from an enrollment of N in the batch's range (the lease keeps other runs of N out).

    Through the source row, not `Enrollment.fiscal_year == N+1`: the statistics taken before the
    run say N+1 is empty, and PostgreSQL then scanned every N+1 row through that index per batch.
    """

    batch: Batch
    run: Run
    before: int

    def __call__(self, query: Select[*Ts]) -> Select[*Ts]:
        source = aliased(Enrollment)
        return query.join(source, source.id == Enrollment.carried_from_id).where(
            Enrollment.id > self.before,
            source.fiscal_year == self.run.from_year,
            self.batch.covers(source.id),
        )


async def _counts(session: AsyncSession, statement: Select[EnrollmentStatus, int]) -> RolloverResult:
    found = {status: int(n) for status, n in await session.execute(statement.group_by(Enrollment.status))}
    return _result(found)


def _result(found: dict[EnrollmentStatus, int]) -> RolloverResult:
    return RolloverResult(
        carried=found.get(EnrollmentStatus.ENROLLED, 0),
        action_required=found.get(EnrollmentStatus.ACTION_REQUIRED, 0),
        ineligible=found.get(EnrollmentStatus.INELIGIBLE, 0),
        inactive=found.get(EnrollmentStatus.INACTIVE, 0),
    )


def _decided(batch: Batch, run: Run) -> CTE:
    """The batch's ENROLLED enrollments, each with its N+1 status.

    Those carried already are skipped by the INSERT's ON CONFLICT on the unique (location,
    program, year), not by a NOT EXISTS here: PostgreSQL planned that as a scan of the program's
    N+1 rows per row once they outgrew the statistics taken before the run.
    """
    status = next_year_status_sql(
        # Rule 14: "if you are still eligible and have an active agreement", whatever the criteria;
        # rule 25: a program open to all partners asks for no agreement.
        eligible=still_eligible_sql(
            meets_criteria=meets_criteria_of(Enrollment.program_id),
            partner_agreement=has_agreement(AgreementKind.PARTNER_PROGRAM),
            open_to_all=~exists().where(ProgramCriterion.program_id == Enrollment.program_id),
        ),
        program_active=Program.status == ProgramStatus.ACTIVE,
        tax_valid=newest_tax_expiry() > literal(run.first_day, Date()),
    )
    return (
        select(
            Enrollment.id,
            Enrollment.location_id,
            Enrollment.program_id,
            Enrollment.payment_profile_id,
            status.label("status"),
        )
        .join(Location, Location.id == Enrollment.location_id)
        .join(Organization, Organization.id == Location.organization_id)
        .join(Program, Program.id == Enrollment.program_id)
        .where(
            batch.covers(Enrollment.id),
            Enrollment.fiscal_year == run.from_year,
            Enrollment.status == EnrollmentStatus.ENROLLED,
        )
        # MATERIALIZED: computed once per row; PostgreSQL would otherwise inline the CASE (and
        # its subqueries) into each of the four outer expressions that read the status.
        .cte("decided")
        .prefix_with("MATERIALIZED")
    )


def _carried(batch: Batch, run: Run) -> Select[*tuple[Any, ...]]:
    """The values of the N+1 rows, in CARRIED_COLUMNS order."""
    decided = _decided(batch, run)
    status = decided.c.status
    enrolled = status == EnrollmentStatus.ENROLLED
    action_required = status == EnrollmentStatus.ACTION_REQUIRED
    # The reason names what is missing: always the tax profile, and the payment profile if absent.
    reason = case(
        (decided.c.payment_profile_id.is_(None), literal(missing_profiles_reason(False, None))),
        else_=literal(missing_profiles_reason(False, 1)),
    )
    now = literal(run.now, UtcDateTime())
    # Typed: left to inference, mypy joins these column kinds to `object` in some runs.
    values: tuple[ColumnElement[Any], ...] = (
        decided.c.location_id,
        decided.c.program_id,
        literal(run.next_year),
        status,
        case((enrolled | action_required, decided.c.payment_profile_id), else_=null()),
        case((enrolled, literal(run.first_day, Date())), else_=null()),
        case((action_required, reason), else_=null()),
        decided.c.id,
        now,
        now,
    )
    labelled = (value.label(name) for value, name in zip(values, CARRIED_COLUMNS, strict=True))
    # SQLite needs a WHERE before ON CONFLICT (parser ambiguity)
    return select(*labelled).where(decided.c.id.is_not(None))
