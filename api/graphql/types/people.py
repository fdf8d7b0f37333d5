"""Users and role assignments."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from api.graphql.declared import Asked, Guard, Reading, Row
from api.graphql.fields import batch, column
from api.graphql.types.base import Node, node_type, object_type, rows_of, to_one
from api.graphql.types.program import IncentiveProgram
from domain import model as models
from domain.access import Action, Grant, Role, Scope
from domain.model import RoleAssignment as Assignment
from domain.queries import people
from domain.queries.pages import Rows, rows_by_ids

if TYPE_CHECKING:
    from api.graphql.types.location import Location

LazyLocation = Annotated["Location", strawberry.lazy("api.graphql.types.location")]


def of_users_organization(row: Row) -> Scope | None:
    """A user is seen by the members of their tenant's organization (nobody's while it has none)."""
    return None if row.organization_id is None else Scope(organization_id=row.organization_id)


@node_type(
    "An Entra ID user or service principal the service knows.",
    Guard(Action.READ_ORGANIZATION, of_users_organization),
    table=models.User.__table__,
    reads=("tenant_id",),
    # The organization of the user's tenant (None while it has none), which its guard names.
    columns=(models.OrganizationTenant.organization_id.label("organization_id"),),
    joins=((models.OrganizationTenant, models.OrganizationTenant.tenant_id == models.User.tenant_id),),
)
class User(Node):
    object_id: strawberry.ID = column("The Entra ID object ID (oid).")
    display_name: str | None = column("The name to show; null when unknown.")
    email: str | None = column("The user's email address; null when unknown.")


def of_assignee(row: Row) -> Scope:
    return Scope(organization_id=row.organization_id, user_id=row.user_id)


async def _grants(reading: Reading, assignments: Sequence[Row]) -> list[Grant | None]:
    wanted = [assignment.id for assignment in assignments]
    found = await people.assignments_where(reading.session, Assignment.id.in_(wanted))
    return [found[key].grant if key in found else None for key in wanted]


async def _covered(
    reading: Reading, rows: Rows, scopes: Sequence[frozenset[int] | None]
) -> list[list[Row] | None]:
    """Each scope's rows in id order (None: the whole organization, or every program)."""
    found = await rows_by_ids(reading.source, rows, (key for ids in scopes if ids for key in ids))
    return [None if ids is None else [found[key] for key in sorted(ids) if key in found] for ids in scopes]


async def _covered_locations(reading: Reading, assignments: Sequence[Row], asked: Asked) -> list[Any]:
    grants = await _grants(reading, assignments)
    return await _covered(
        reading, rows_of("Location"), [None if g is None else g.location_ids for g in grants]
    )


async def _covered_programs(reading: Reading, assignments: Sequence[Row], asked: Asked) -> list[Any]:
    grants = await _grants(reading, assignments)
    return await _covered(
        reading, rows_of("IncentiveProgram"), [None if g is None else g.program_ids for g in grants]
    )


@node_type(
    "A stored role of a user.",
    Guard(Action.READ_ROLE_ASSIGNMENT, of_assignee),
    table=models.RoleAssignment.__table__,
    reads=("organization_id", "user_id"),
)
class RoleAssignment(Node):
    user: User = batch(to_one("User", "user_id"), "The user who holds the role.")
    role: Role = column("The role assigned.")
    locations: list[LazyLocation] | None = batch(
        _covered_locations, "The locations covered; null: the entire organization, later ones included."
    )
    programs: list[IncentiveProgram] | None = batch(
        _covered_programs, "The programs covered; null: all programs."
    )


@object_type("An administrator of an organization known to the service.", Guard(Action.READ_ORGANIZATION))
class Contact:
    row: strawberry.Private[Any]
    display_name: str | None = column("The name to show; null when unknown.")
    email: str | None = column("Where to write to them; null when unknown.")
    role: Role = column(
        "GLOBAL_ADMIN or ACCOUNT_ADMIN (INCENTIVES_ADMIN in an invitation's incentivesAdmins)."
    )
