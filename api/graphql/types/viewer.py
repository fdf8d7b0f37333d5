"""The signed-in caller, as the caller sees itself."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry

from api.graphql.declared import Asked, Reading, Row
from api.graphql.fields import batch, column, computed
from api.graphql.types.base import object_type, to_one
from api.graphql.types.enrollment import Invitation
from api.graphql.types.organization import Organization
from api.graphql.types.people import RoleAssignment
from auth.principal import Principal
from domain import model as models
from domain.access import Action, Role
from domain.fiscal import fiscal_year_of
from domain.queries import people
from domain.queries.enrollments import home_page_notices
from domain.queries.rows import ORGANIZATIONS


def _roles(principal: Principal) -> list[Role]:
    return sorted(principal.roles(), key=list(Role).index)


async def _role_assignments(reading: Reading, viewers: Sequence[Row], asked: Asked) -> list[Any]:
    users = [None if p.user_id is None or p.organization_id is None else p.user_id for p in viewers]
    found = await people.assignments_of_users(reading.session, [user for user in users if user is not None])
    return [[] if user is None else found[user] for user in users]


async def notices(reading: Reading, action: Action) -> list[models.Invitation]:
    """The caller's home-page notices now (`viewer.invitations`, and the subscription's snapshot):
    this fiscal year's EMAIL invitations in the caller's coverage of `action`."""
    principal = reading.context.principal
    organization_id = principal.organization_id
    if organization_id is None:
        return []
    return await home_page_notices(
        reading.session,
        organization_id=organization_id,
        user_id=principal.user_id,
        coverage=principal.coverage(action, organization_id),
        fiscal_year=fiscal_year_of(reading.context.today()),
    )


async def _notices(reading: Reading, viewers: Sequence[Row], asked: Asked) -> list[Any]:
    assert asked.shows is not None
    found = await notices(reading, asked.shows)
    return [found for _ in viewers]


@object_type("The signed-in caller, as it sees itself (its own data only).", None)
class Viewer:
    """Its row: the caller (`auth.principal.Principal`)."""

    row: strawberry.Private[Principal]
    object_id: strawberry.ID = column("The Entra object ID (oid) of the caller.")
    tenant_id: strawberry.ID = column("The Entra tenant ID (tid) of the caller.")
    display_name: str | None = column("The caller's name from the token (name claim); null when it has none.")
    is_operator: bool = column(
        "Incentives operations staff: the operator tenant and the Incentives.Operator role."
    )
    is_global_admin: bool = column("An Entra Global Administrator of the caller's tenant.")
    roles: list[Role] = computed(
        _roles, "Every role the caller holds in its organization (union of all sources)."
    )
    organization: Organization | None = batch(
        to_one(ORGANIZATIONS, "organization_id"),
        "The organization of the caller's tenant; null while it belongs to none.",
    )
    role_assignments: list[RoleAssignment] = batch(
        _role_assignments, "The caller's own stored role assignments."
    )
    invitations: list[Invitation] = batch(
        _notices,
        "Home-page notices: this fiscal year's EMAIL invitations not dismissed by the caller and not "
        "yet enrolled; every one of the organization for its Global and Account admins, those of the "
        "(location, program) pairs they administer for an INCENTIVES_ADMIN.",
        shows=Action.INVITATION_NOTICES,
    )
