"""The signed-in caller, as the caller sees itself."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry

from api.graphql.declared import Asked, Reading, Row
from api.graphql.fields import batch, column, computed
from api.graphql.types.base import children, object_type, rows_of, to_one
from api.graphql.types.enrollment import Invitation
from api.graphql.types.organization import Organization
from api.graphql.types.people import RoleAssignment
from auth.principal import Principal
from domain import model as models
from domain.access import Action, Role
from domain.fiscal import fiscal_year_of
from domain.queries.enrollments import home_page_notices
from domain.queries.pages import rows_by_ids


def _roles(principal: Principal) -> list[Role]:
    return sorted(principal.roles(), key=list(Role).index)


def _own_user(principal: Principal) -> int | None:
    """The caller's user, while their tenant belongs to an organization."""
    return None if principal.organization_id is None else principal.user_id


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
    invitations = await rows_by_ids(reading.source, rows_of("Invitation"), [notice.id for notice in found])
    return [[invitations[notice.id] for notice in found] for _ in viewers]


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
        to_one("Organization", "organization_id"),
        "The organization of the caller's tenant; null while it belongs to none.",
    )
    role_assignments: list[RoleAssignment] = batch(
        children("RoleAssignment", "user_id", key=_own_user), "The caller's own stored role assignments."
    )
    invitations: list[Invitation] = batch(
        _notices,
        "Home-page notices: this fiscal year's EMAIL invitations not dismissed by the caller and not "
        "yet enrolled; every one of the organization for its Global and Account admins, those of the "
        "(location, program) pairs they administer for an INCENTIVES_ADMIN.",
        shows=Action.INVITATION_NOTICES,
    )
