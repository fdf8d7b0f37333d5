"""Enrollments of locations in programs, and the invitations that precede them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple, TypeVar

import strawberry
from sqlalchemy import ColumnElement, Date, Integer, bindparam, not_

from api.graphql.declared import Asked, Guard, Reading, Row
from api.graphql.fields import batch, column, for_caller, joined
from api.graphql.types.base import Node, node_type, to_one
from api.graphql.types.payout import PaymentProfile
from api.graphql.types.program import IncentiveProgram
from api.read.json_pages import JsonPages
from domain.access import Action, Coverage, Scope, holders
from domain.queries.enrollments import (
    ENROLLMENT_ROWS,
    covered,
    enrollment_counts_by_location,
    enrollment_json_pages_by_location,
    enrollment_row_pages_by_location,
    enrollment_rows_by_id,
)
from domain.queries.pages import JsonPage, Page
from domain.queries.rows import INVITATIONS, LOCATIONS, PAYMENT_PROFILES, PROGRAMS, by_ids
from domain.shown_status import (
    shown_reason,
    shown_status,
    shown_status_sql,
    tax_profile_lapsed,
    tax_profile_lapsed_sql,
)
from domain.vocabulary import EnrollmentStatus, InvitationChannel, PartnerType, ProgramStatus

if TYPE_CHECKING:
    from api.graphql.context import Context
    from api.graphql.types.location import Location

T = TypeVar("T")
LazyLocation = Annotated["Location", strawberry.lazy("api.graphql.types.location")]


def of_location_in_program(row: Row) -> Scope:
    """Where an enrollment or invitation is: its organization, location and program."""
    return Scope(row.organization_id, row.location_id, row.program_id)


@node_type(
    "A location's invitation to enroll in a program for a fiscal year.",
    Guard(Action.READ_ENROLLMENT, of_location_in_program),
    by_id=by_ids(INVITATIONS),
)
class Invitation(Node):
    program: IncentiveProgram = batch(to_one(PROGRAMS, "program_id"), "The incentive program.")
    location: LazyLocation = batch(
        to_one(LOCATIONS, "location_id"), "The location (its PartnerID) in the program."
    )
    fiscal_year: int = column("The fiscal year it is for: FY N runs July 1 of N-1 to June 30 of N.")
    channel: InvitationChannel = column("How the partner was told of the invitation.")


# --- an enrollment's row (`ENROLLMENT_ROWS`): its program, location and organization joined --------


class ProgramRow(NamedTuple):
    """An enrollment's program, from the `program__` columns of its row: the shape of `PROGRAMS`."""

    id: int
    code: str
    name: str
    status: ProgramStatus


class LocationRow(NamedTuple):
    """An enrollment's location, from the `location__` columns of its row: the shape of `LOCATIONS`."""

    id: int
    organization_id: int
    partner_id: str
    name: str
    country: str
    partner_type: PartnerType


def _joined(shape: Callable[..., Any], prefix: str, rows_names: tuple[str, ...]) -> Callable[[Row], Any]:
    """Reads the row of a joined table (its `prefix` columns) off an enrollment row, as `shape`."""
    fields: tuple[str, ...] = shape._fields  # type: ignore[attr-defined]
    assert rows_names == fields, f"{prefix} rows are read by position"
    getters = tuple(ENROLLMENT_ROWS.get(f"{prefix}{name}") for name in fields)
    return lambda row: shape(*(get(row) for get in getters))


_program_of = _joined(ProgramRow, "program__", PROGRAMS.names)
_location = _joined(LocationRow, "location__", LOCATIONS.names)
_E_LOCATION_ID = ENROLLMENT_ROWS.get("location__id")


def _location_of(row: Row) -> LocationRow | None:
    return None if _E_LOCATION_ID(row) is None else _location(row)


_E_ORGANIZATION, _E_LOCATION, _E_PROGRAM, _E_STATUS, _E_YEAR, _E_TAX_EXPIRES, _E_PROGRAM_STATUS = (
    ENROLLMENT_ROWS.get(name)
    for name in (
        "organization_id",
        "location_id",
        "program_id",
        "status",
        "fiscal_year",
        "tax_expires_on",
        "program__status",
    )
)


def _lapsed_for(today: date) -> Callable[[Row], bool]:
    return lambda row: tax_profile_lapsed(_E_STATUS(row), _E_YEAR(row), _E_TAX_EXPIRES(row), today=today)


def _shown_status(context: Context) -> Callable[[Row], EnrollmentStatus]:
    """The status an enrollment row shows this caller (rule 8): the caller's coverage worked out once
    per organization; columns read by position (this runs for every row)."""
    principal = context.principal
    coverages: dict[int, Coverage] = {}
    lapsed = _lapsed_for(context.today())
    active = ProgramStatus.ACTIVE

    def shown(row: Row) -> EnrollmentStatus:
        organization_id = _E_ORGANIZATION(row)
        coverage = coverages.get(organization_id)
        if coverage is None:
            coverage = coverages[organization_id] = principal.coverage(
                Action.READ_ENROLLMENT_DETAIL, organization_id
            )
        return shown_status(
            _E_STATUS(row),
            program_active=_E_PROGRAM_STATUS(row) is active,
            sees_detail=coverage.everything
            or (bool(coverage.grants) and coverage.covers(_E_LOCATION(row), _E_PROGRAM(row))),
            tax_profile_valid=not lapsed(row),
        )

    return shown


def _shown_status_sql(columns: Any, coverages: Mapping[Action, Coverage]) -> ColumnElement[Any]:
    """`_shown_status` in SQL, for rows of one organization whose detail coverage is given."""
    lapsed = tax_profile_lapsed_sql(
        columns.status,
        columns.fiscal_year,
        columns.tax_expires_on,
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


async def enrollments_by_id(source: Any, ids: Sequence[int]) -> Mapping[int, Row]:
    return await enrollment_rows_by_id(source, ids)


@node_type(
    "A location's enrollment in a program for one fiscal year.",
    Guard(Action.READ_ENROLLMENT, of_location_in_program),
    rows=ENROLLMENT_ROWS,
    by_id=enrollments_by_id,
)
class Enrollment(Node):
    program: IncentiveProgram = joined(_program_of, "program__", "The incentive program.")
    location: LazyLocation = joined(
        _location_of, "location__", "The location (its PartnerID) in the program."
    )
    fiscal_year: int = column("The fiscal year it is for: FY N runs July 1 of N-1 to June 30 of N.")
    status: EnrollmentStatus = for_caller(
        _shown_status, STATUS, sql=_shown_status_sql, sql_needs=(Action.READ_ENROLLMENT_DETAIL,)
    )
    earnings_start_date: date | None = column(
        "The first day earnings count (the first of the month it was enrolled)."
    )
    payment_profile: PaymentProfile | None = batch(
        to_one(PAYMENT_PROFILES, "payment_profile_id"),
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
        return enrollment_row_pages_by_location(
            reading.source, ids, page, coverage=coverage, fiscal_year=year
        )

    return await _by_coverage(reading, locations, asked, read)


async def _enrollment_counts(reading: Reading, locations: Sequence[Row], asked: Asked) -> list[int]:
    def read(ids: list[int], coverage: Coverage, year: int | None) -> Awaitable[Mapping[int, int]]:
        return enrollment_counts_by_location(reading.session, ids, coverage=coverage, fiscal_year=year)

    return await _by_coverage(reading, locations, asked, read)


async def _enrollment_json(
    source: Any,
    location_ids: list[int],
    asked: Asked,
    coverage: Coverage,
    item: Callable[[Any], ColumnElement[Any]],
    item_shape: Hashable,
    values: Mapping[str, Any],
) -> Mapping[int, JsonPage]:
    assert asked.page is not None
    return await enrollment_json_pages_by_location(
        source,
        location_ids,
        asked.page,
        coverage=coverage,
        fiscal_year=asked.args.get("fiscal_year"),
        item=item,
        item_shape=item_shape,
        values=values,
    )


# `Location.enrollments`: its pages (as rows, or as JSON the database builds) and counts.
location_enrollments = (_enrollment_pages, _enrollment_counts)
location_enrollments_json = JsonPages(_enrollment_json)


async def enrollment_of(context: Context, enrollment_id: int) -> Enrollment:
    """The enrollment as it reads now (after a change): its row of the read model."""
    from api.graphql.resolvers import reading

    async with reading(context) as within:
        found = await enrollment_rows_by_id(within.source, [enrollment_id])
    return Enrollment(row=found[enrollment_id])
