"""Enrollments and invitations, filtered in SQL by what a caller may see (a `Coverage`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Row,
    ScalarSelect,
    SQLColumnExpression,
    and_,
    bindparam,
    exists,
    false,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from domain.access import Coverage, Grant
from domain.fiscal import fiscal_year_of
from domain.model import Enrollment, Invitation, InvitationDismissal, Location, Program, TaxProfile
from domain.queries.pages import (
    Page,
    PageArgs,
    Rows,
    Source,
    Where,
    count_of,
    counts_by_parent,
    row_page,
    row_pages_by_parent,
)
from domain.shown_status import shown_as_sql, tax_profile_lapsed_sql
from domain.vocabulary import EnrollmentStatus, InvitationChannel, ProgramStatus


def covered(
    coverage: Coverage, location_id: SQLColumnExpression[int], program_id: SQLColumnExpression[int]
) -> ColumnElement[bool]:
    """The SQL for `coverage.covers(location_id, program_id)`; org-wide grants rely on the caller
    having narrowed the rows to the coverage's organization already."""
    if coverage.everything:
        return true()
    if not coverage.grants:
        return false()
    return or_(*(_granted(grant, location_id, program_id) for grant in coverage.grants))


def _granted(
    grant: Grant, location_id: SQLColumnExpression[int], program_id: SQLColumnExpression[int]
) -> ColumnElement[bool]:
    locations = true() if grant.location_ids is None else location_id.in_(sorted(grant.location_ids))
    programs = true() if grant.program_ids is None else program_id.in_(sorted(grant.program_ids))
    return and_(locations, programs)


def _location_conditions(coverage: Coverage, fiscal_year: Any) -> list[ColumnElement[bool]]:
    conditions = [covered(coverage, Enrollment.location_id, Enrollment.program_id)]
    if fiscal_year is not None:
        conditions.append(Enrollment.fiscal_year == fiscal_year)
    return conditions


async def enrollment_counts_by_location(
    session: AsyncSession, location_ids: Iterable[int], *, coverage: Coverage, fiscal_year: int | None = None
) -> dict[int, int]:
    conditions = _location_conditions(coverage, fiscal_year)
    return await counts_by_parent(session, Enrollment.location_id, location_ids, *conditions)


def newest_tax_expiry(location_id: ColumnElement[int] | None = None) -> ScalarSelect[date]:
    """The expiry of a location's current (newest) tax profile, NULL without one: of the location
    `location_id` gives (a column of the statement around it), else of the enrollment's."""
    newest = select(TaxProfile.expires_on).order_by(TaxProfile.id.desc()).limit(1)
    if location_id is None:
        newest = newest.where(TaxProfile.location_id == Enrollment.location_id).correlate(Enrollment)
    else:
        newest = newest.where(TaxProfile.location_id == location_id)
    return newest.scalar_subquery()


async def enrollment_row_pages_by_location(
    session: Source,
    rows: Rows,
    location_ids: Iterable[int],
    args: PageArgs,
    *,
    coverage: Coverage,
    fiscal_year: int | None = None,
) -> dict[int, Page[Row[Any]]]:
    """The same page of each location's enrollments that `coverage` reaches (of one fiscal year,
    or all), as `rows` (of the enrollments table), in one statement."""
    where = enrollments_of_locations(coverage, fiscal_year)
    return await row_pages_by_parent(
        session, rows, Enrollment.__table__.c.location_id, location_ids, args, where
    )


def enrollments_of_locations(coverage: Coverage | None, fiscal_year: int | None) -> Where:
    """The enrollments (of their locations) that `coverage` reaches, of one fiscal year or all."""
    assert coverage is not None, "a location's enrollments are shown by coverage"
    by_year = fiscal_year is not None
    return Where(
        shape=("enrollments by location", coverage, by_year),
        build=lambda: _location_conditions(coverage, bindparam("fiscal_year") if by_year else None),
        values={"fiscal_year": fiscal_year} if by_year else {},
    )


async def all_enrollment_rows_page(
    session: Source, rows: Rows, args: PageArgs, status: EnrollmentStatus | None, today: date | None = None
) -> Page[Row[Any]]:
    """A page of every enrollment (shown to an operator as `status`, when given), as `rows`."""
    where = Where(shape=("all enrollments", status, today), build=lambda: [shown_status_is(status, today)])
    return await row_page(session, rows, args, where)


def shown_status_is(status: EnrollmentStatus | None, today: date | None = None) -> ColumnElement[bool]:
    """Enrollments an operator (who sees the real in-progress status) is shown as `status`.

    With `today`, an ENROLLED enrollment whose tax profile lapsed counts as ACTION_REQUIRED, as
    `shown_status` shows it; without, stored statuses only.
    """
    if status is None:
        return true()
    # Its own alias: the statement around it may have joined the programs already.
    program = aliased(Program)
    discontinued = exists().where(
        program.id == Enrollment.program_id, program.status == ProgramStatus.DISCONTINUED
    )
    lapsed = (
        false()
        if today is None
        else tax_profile_lapsed_sql(
            Enrollment.status,
            Enrollment.fiscal_year,
            newest_tax_expiry(),
            today=literal(today, Date),
            current_year=literal(fiscal_year_of(today), Integer),
        )
    )
    return shown_as_sql(
        status, Enrollment.status, program_active=~discontinued, sees_detail=True, tax_profile_valid=~lapsed
    )


async def all_enrollments_count(
    session: AsyncSession, status: EnrollmentStatus | None, today: date | None = None
) -> int:
    return await count_of(session, Enrollment, shown_status_is(status, today))


async def home_page_notices(
    session: AsyncSession, *, organization_id: int, user_id: int | None, coverage: Coverage, fiscal_year: int
) -> list[Invitation]:
    """Home-page notices: EMAIL invitations of `fiscal_year` in the caller's coverage (all of the
    organization for its Global and Account admins), not dismissed by this user, whose enrollment is
    still INVITED (or absent)."""
    if coverage.is_empty:
        return []
    dismissed = exists().where(
        InvitationDismissal.invitation_id == Invitation.id, InvitationDismissal.user_id == user_id
    )
    enrolled = exists().where(
        Enrollment.location_id == Invitation.location_id,
        Enrollment.program_id == Invitation.program_id,
        Enrollment.fiscal_year == Invitation.fiscal_year,
        Enrollment.status != EnrollmentStatus.INVITED,
    )
    statement = (
        select(Invitation)
        .join(Location, Location.id == Invitation.location_id)
        .where(
            Location.organization_id == organization_id,
            Invitation.channel == InvitationChannel.EMAIL,
            Invitation.fiscal_year == fiscal_year,
            covered(coverage, Invitation.location_id, Invitation.program_id),
            ~enrolled,
            true() if user_id is None else ~dismissed,
        )
        .order_by(Invitation.id)
    )
    return list((await session.execute(statement)).scalars())
