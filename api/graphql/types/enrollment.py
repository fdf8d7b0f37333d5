"""Enrollments of locations in programs, and the invitations that precede them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date
from functools import cache
from operator import attrgetter
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import strawberry
from sqlalchemy import ColumnElement, Date, Integer, bindparam, not_

from api.graphql.declared import Asked, Guard, Reading, Row
from api.graphql.fields import batch, column, for_caller, joined
from api.graphql.types.base import Node, node_type, rows_of, to_one
from api.graphql.types.payout import PaymentProfile
from api.graphql.types.people import Contact
from api.graphql.types.program import IncentiveProgram
from api.read.json_pages import JsonPages
from domain import model as models
from domain.access import Action, Coverage, Role, Scope, holders, permits
from domain.queries.enrollments import (
    covered,
    enrollment_counts_by_location,
    enrollment_row_pages_by_location,
    enrollments_of_locations,
    newest_tax_expiry,
)
from domain.queries.pages import Page, rows_by_ids
from domain.queries.people import Contact as ContactRow
from domain.queries.people import incentive_admins_by_location
from domain.shown_status import (
    shown_reason,
    shown_status,
    shown_status_sql,
    tax_profile_lapsed,
    tax_profile_lapsed_sql,
)
from domain.vocabulary import EnrollmentStatus, InvitationChannel, ProgramStatus

if TYPE_CHECKING:
    from api.graphql.context import Context
    from api.graphql.types.location import Location

T = TypeVar("T")
LazyLocation = Annotated["Location", strawberry.lazy("api.graphql.types.location")]


def of_location_in_program(row: Row) -> Scope:
    """Where an enrollment or invitation is: its organization, location and program."""
    return Scope(row.organization_id, row.location_id, row.program_id)


async def _incentives_admins(reading: Reading, invitations: Sequence[Row], asked: Asked) -> list[Any]:
    found = await incentive_admins_by_location(reading.session, [row.location_id for row in invitations])
    return [
        [ContactRow(u.id, u.display_name, u.email, Role.INCENTIVES_ADMIN) for u in found[row.location_id]]
        for row in invitations
    ]


def _viewer_can_enroll(context: Context) -> Callable[[Row], bool]:
    return lambda row: permits(context.principal, Action.ENROLL, of_location_in_program(row))


@node_type(
    "A location's invitation to enroll in a program for a fiscal year.",
    Guard(Action.READ_ENROLLMENT, of_location_in_program),
    table=models.Invitation.__table__,
    reads=("location_id", "program_id"),
    # Its location's organization, which its guard names.
    columns=(models.Location.organization_id.label("organization_id"),),
    joins=((models.Location, models.Location.id == models.Invitation.location_id),),
)
class Invitation(Node):
    program: IncentiveProgram = batch(to_one("IncentiveProgram", "program_id"), "The incentive program.")
    location: LazyLocation = batch(
        to_one("Location", "location_id"), "The location (its PartnerID) in the program."
    )
    fiscal_year: int = column("The fiscal year it is for: FY N runs July 1 of N-1 to June 30 of N.")
    channel: InvitationChannel = column("How the partner was told of the invitation.")
    incentives_admins: list[Contact] = batch(
        _incentives_admins,
        "The INCENTIVES_ADMINs covering it: who can enroll it. Empty: a GLOBAL_ADMIN or "
        "ACCOUNT_ADMIN must assign one first.",
    )
    viewer_can_enroll: bool = for_caller(
        _viewer_can_enroll, "Whether the caller may enroll it: an INCENTIVES_ADMIN covering it."
    )


# --- an enrollment's row: its program, location and organization joined, its tax profile's expiry -


@cache
def _column(name: str) -> Callable[[Row], Any]:
    """A column of an enrollment's row, read by position (what follows runs for every row)."""
    return rows_of("Enrollment").get(name)


@cache
def _status_columns() -> tuple[Callable[[Row], Any], ...]:
    return tuple(map(_column, ("organization_id", "location_id", "program_id", "status", "program__status")))


def _lapsed_for(today: date) -> Callable[[Row], bool]:
    status, year, expires = _column("status"), _column("fiscal_year"), _column("tax_expires_on")
    return lambda row: tax_profile_lapsed(status(row), year(row), expires(row), today=today)


def _shown_status(context: Context) -> Callable[[Row], EnrollmentStatus]:
    """The status an enrollment row shows this caller (rule 8): the caller's coverage worked out once
    per organization; columns read by position (this runs for every row)."""
    principal = context.principal
    coverages: dict[int, Coverage] = {}
    lapsed = _lapsed_for(context.today())
    active = ProgramStatus.ACTIVE
    organization_of, location_of, program_of, status_of, program_status_of = _status_columns()

    def shown(row: Row) -> EnrollmentStatus:
        organization_id = organization_of(row)
        coverage = coverages.get(organization_id)
        if coverage is None:
            coverage = coverages[organization_id] = principal.coverage(
                Action.READ_ENROLLMENT_DETAIL, organization_id
            )
        return shown_status(
            status_of(row),
            program_active=program_status_of(row) is active,
            sees_detail=coverage.everything
            or (bool(coverage.grants) and coverage.covers(location_of(row), program_of(row))),
            tax_profile_valid=not lapsed(row),
        )

    return shown


def _shown_status_sql(columns: Any, coverages: Mapping[Action, Coverage]) -> ColumnElement[Any]:
    """`_shown_status` in SQL, for rows of one organization whose detail coverage is given. The tax
    profile is looked up inside the rule, so only for the ENROLLED ones of this year or later (SQLite
    and PostgreSQL evaluate the subquery only when the conditions before it hold): as a column of
    the rows, it was read for every row (on SQLite, a dashboard's statement took 0.9 ms for 0.8)."""
    lapsed = tax_profile_lapsed_sql(
        columns.status,
        columns.fiscal_year,
        newest_tax_expiry(columns.location_id),
        today=bindparam("today", type_=Date),
        current_year=bindparam("current_year", type_=Integer),
    )
    return shown_status_sql(
        columns.status,
        program_active=columns.program__status.is_not_distinct_from(ProgramStatus.ACTIVE),
        sees_detail=covered(
            coverages[Action.READ_ENROLLMENT_DETAIL], columns.location_id, columns.program_id
        ),
        tax_profile_valid=not_(lapsed),
    )


def _shown_reason(context: Context) -> Callable[[Row], str | None]:
    lapsed = _lapsed_for(context.today())
    return lambda row: shown_reason(
        row.status,
        row.action_required_reason,
        payment_profile_id=row.payment_profile_id,
        tax_profile_valid=not lapsed(row),
    )


STATUS = (
    "The status as the caller may see it: the in-progress ACTION_REQUIRED and VALIDATING_ENROLLMENT "
    f"are shown as such only to {holders(Action.READ_ENROLLMENT_DETAIL)}; everyone else sees ENROLLING "
    "in their place. DISCONTINUED when the program is; ACTION_REQUIRED for an ENROLLED one of this or "
    "a later fiscal year once the location's tax profile has expired."
)


@node_type(
    "A location's enrollment in a program for one fiscal year.",
    Guard(Action.READ_ENROLLMENT, of_location_in_program),
    table=models.Enrollment.__table__,
    # What its guard, its status (rule 8) and its reason read, besides its declared columns.
    reads=("location_id", "program_id", "status", "payment_profile_id", "action_required_reason"),
    # Its location's organization (the location is joined for `location`), and the expiry of the
    # location's current tax profile, which the status shown depends on.
    columns=(
        models.Location.organization_id.label("organization_id"),
        newest_tax_expiry().label("tax_expires_on"),
    ),
)
class Enrollment(Node):
    program: IncentiveProgram = joined(
        "IncentiveProgram",
        "The incentive program.",
        on=models.Program.id == models.Enrollment.program_id,
        prefix="program__",
    )
    location: LazyLocation = joined(
        "Location",
        "The location (its PartnerID) in the program.",
        on=models.Location.id == models.Enrollment.location_id,
        prefix="location__",
    )
    fiscal_year: int = column("The fiscal year it is for: FY N runs July 1 of N-1 to June 30 of N.")
    status: EnrollmentStatus = for_caller(
        _shown_status, STATUS, sql=_shown_status_sql, sql_needs=(Action.READ_ENROLLMENT_DETAIL,)
    )
    earnings_start_date: date | None = column(
        "The first day earnings count (the first of the month it was enrolled)."
    )
    payment_profile: PaymentProfile | None = batch(
        to_one("PaymentProfile", "payment_profile_id"),
        "The bank profile payouts go to; null until one is chosen.",
    )
    action_required_reason: str | None = for_caller(
        _shown_reason,
        "What to complete while the status is ACTION_REQUIRED; null otherwise.",
        guard=Guard(Action.READ_ENROLLMENT_DETAIL, of_location_in_program),
    )


# --- a location's enrollments --------------------------------------------------------------------------


async def _by_coverage(
    reading: Reading,
    locations: Sequence[Row],
    asked: Asked,
    read: Callable[[list[int], Coverage, int | None], Awaitable[Mapping[int, T]]],
) -> list[T]:
    """`read(location ids, coverage, fiscal year)` once per coverage of the caller (what it may see
    of an organization's enrollments: `asked.shows`), each location's value in their order."""
    assert asked.shows is not None
    principal = reading.context.principal
    coverages: dict[int, Coverage] = {}
    groups: dict[Coverage, list[int]] = {}
    for location in locations:
        organization_id = location.organization_id
        coverage = coverages.get(organization_id)
        if coverage is None:
            coverage = coverages[organization_id] = principal.coverage(asked.shows, organization_id)
        groups.setdefault(coverage, []).append(location.id)
    found: dict[int, T] = {}
    for coverage, ids in groups.items():
        found.update(await read(ids, coverage, asked.args.get("fiscal_year")))
    return [found[location.id] for location in locations]


async def _enrollment_pages(reading: Reading, locations: Sequence[Row], asked: Asked) -> list[Page[Row]]:
    assert asked.page is not None
    page = asked.page

    def read(ids: list[int], coverage: Coverage, year: int | None) -> Awaitable[Mapping[int, Page[Row]]]:
        rows = rows_of("Enrollment")
        return enrollment_row_pages_by_location(
            reading.source, rows, ids, page, coverage=coverage, fiscal_year=year
        )

    return await _by_coverage(reading, locations, asked, read)


async def _enrollment_counts(reading: Reading, locations: Sequence[Row], asked: Asked) -> list[int]:
    def read(ids: list[int], coverage: Coverage, year: int | None) -> Awaitable[Mapping[int, int]]:
        return enrollment_counts_by_location(reading.session, ids, coverage=coverage, fiscal_year=year)

    return await _by_coverage(reading, locations, asked, read)


# `Location.enrollments`: its pages (as rows, or as JSON the database builds) and counts.
location_enrollments = (_enrollment_pages, _enrollment_counts)
location_enrollments_json = JsonPages(
    lambda: rows_of("Enrollment"),
    models.Enrollment.__table__.c.location_id,
    lambda asked, coverage: enrollments_of_locations(coverage, asked.args.get("fiscal_year")),
    attrgetter("organization_id"),
)


async def enrollment_of(context: Context, enrollment_id: int) -> Enrollment:
    """The enrollment as it reads now (after a change): its row of the read model."""
    from api.graphql.resolvers import reading

    async with reading(context) as within:
        found = await rows_by_ids(within.source, rows_of("Enrollment"), [enrollment_id])
    return Enrollment(row=found[enrollment_id])
