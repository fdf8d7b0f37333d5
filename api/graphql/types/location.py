"""Locations: where enrollments, eligibility and tax profiles live."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from api.graphql.declared import Argument, Asked, Guard, Reading, Row
from api.graphql.errors import ExpectedError
from api.graphql.fields import batch, column, paged
from api.graphql.ids import key_of
from api.graphql.types.base import Connection, Node, children, node_type, object_type, rows_of, to_one
from api.graphql.types.enrollment import Enrollment, location_enrollments, location_enrollments_json
from api.graphql.types.payout import TaxProfile, of_organization
from api.graphql.types.people import User
from domain import eligibility
from domain import model as models
from domain.access import Action, Scope
from domain.queries import entities, people
from domain.queries.pages import rows_by_ids
from domain.vocabulary import CriterionKind, PartnerType

if TYPE_CHECKING:
    from api.graphql.types.organization import Organization

LazyOrganization = Annotated["Organization", strawberry.lazy("api.graphql.types.organization")]


@object_type("Whether a criterion is met.", Guard(Action.READ_ORGANIZATION))
class CriterionResult:
    """Its row: a `domain.eligibility.CriterionResult`."""

    row: strawberry.Private[Any]
    kind: CriterionKind = column("The criterion.")
    met: bool = column("Whether the location meets it.")


@object_type(
    "Whether a location meets each eligibility criterion of a program.", Guard(Action.READ_ORGANIZATION)
)
class Eligibility:
    """Its row: a `domain.eligibility.Eligibility`."""

    row: strawberry.Private[Any]
    eligible: bool = column("True when every criterion is met.")
    criteria: list[CriterionResult] = column(
        "Each of the program's criteria and whether it is met; [] for an open program."
    )


class NotFoundError(ExpectedError):
    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": "NOT_FOUND"})


def at_location(row: Row) -> Scope:
    return Scope(organization_id=row.organization_id, location_id=row.id)


async def _incentive_admins(reading: Reading, locations: Sequence[Row], asked: Asked) -> list[Any]:
    """The users whose INCENTIVES_ADMIN assignment covers each location (as `User`'s rows)."""
    ids = [location.id for location in locations]
    found = await people.incentive_admins_by_location(reading.session, ids)
    admins = {user.id for users in found.values() for user in users}
    rows = await rows_by_ids(reading.source, rows_of("User"), admins)
    return [[rows[user.id] for user in found[key]] for key in ids]


async def _eligibility(reading: Reading, locations: Sequence[Row], asked: Asked) -> list[Any]:
    """Each location's eligibility for the program `programId` names (NOT_FOUND: no such program)."""
    program_id = key_of(asked.args["program_id"], "IncentiveProgram")
    programs = (
        {}
        if program_id is None
        else await rows_by_ids(reading.source, rows_of("IncentiveProgram"), [program_id])
    )
    if program_id not in programs:
        return [NotFoundError("No program has this ID.") for _ in locations]
    assert program_id is not None
    standings = await entities.standings(reading.session, locations)
    criteria = (await entities.criteria_by_program(reading.session, [program_id]))[program_id]
    return [eligibility.evaluate(criteria, standings[location.id]) for location in locations]


FISCAL_YEAR = Argument(
    Annotated[int | None, strawberry.argument(description="Only this fiscal year's; left out: every year.")],
    strawberry.UNSET,
)
PROGRAM_ID = Argument(Annotated[strawberry.ID, strawberry.argument(description="The program's global ID.")])


@node_type(
    "A location (PartnerLocationID) of an organization.",
    Guard(Action.READ_ORGANIZATION, of_organization),
    table=models.Location.__table__,
    reads=("organization_id",),
)
class Location(Node):
    partner_id: str = column("The location PartnerID: digits, unique across the service.")
    name: str = column("The location's name.")
    country: str = column("ISO 3166-1 alpha-2.")
    partner_type: PartnerType = column("How the location sells.")
    organization: LazyOrganization = batch(
        to_one("Organization", "organization_id"), "The organization the location belongs to."
    )
    incentive_admins: list[User] = batch(
        _incentive_admins, "Users whose INCENTIVES_ADMIN assignment covers this location."
    )
    eligibility: Eligibility = batch(
        _eligibility,
        "Whether this location meets the program's criteria; NOT_FOUND for an unknown program.",
        arguments={"program_id": PROGRAM_ID},
    )
    enrollments: Connection[Enrollment] = paged(
        *location_enrollments,
        "The enrollments the caller may see, oldest first; the others are left out.",
        shows=Action.READ_ENROLLMENT,
        arguments={"fiscal_year": FISCAL_YEAR},
        json=location_enrollments_json,
    )
    tax_profile: TaxProfile | None = batch(
        children("TaxProfile", "location_id", newest=True),
        "The current (newest) tax profile; null when none.",
        guard=Guard(Action.READ_TAX_PROFILE, at_location),
    )
