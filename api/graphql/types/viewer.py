"""The signed-in caller, as the caller sees itself."""

from __future__ import annotations

import strawberry

from api.graphql.types.base import Info, field, object_type
from api.graphql.types.enrollment import Invitation
from api.graphql.types.organization import Organization
from api.graphql.types.people import RoleAssignment
from auth.principal import Principal
from domain import model as models
from domain.access import Action, Role
from domain.fiscal import fiscal_year_of
from domain.queries.enrollments import home_page_notices


@object_type("The signed-in caller, as it sees itself (its own data only).", None)
class Viewer:
    principal: strawberry.Private[Principal]

    @field("The Entra object ID (oid) of the caller.")
    def object_id(self) -> strawberry.ID:
        return strawberry.ID(self.principal.object_id)

    @field("The Entra tenant ID (tid) of the caller.")
    def tenant_id(self) -> strawberry.ID:
        return strawberry.ID(self.principal.tenant_id)

    @field("The caller's name from the token (name claim); null when it has none.")
    def display_name(self) -> str | None:
        return self.principal.display_name

    @field("Incentives operations staff: the operator tenant and the Incentives.Operator role.")
    def is_operator(self) -> bool:
        return self.principal.is_operator

    @field("An Entra Global Administrator of the caller's tenant.")
    def is_global_admin(self) -> bool:
        return self.principal.is_global_admin

    @field("Every role the caller holds in its organization (union of all sources).")
    def roles(self) -> list[Role]:
        return sorted(self.principal.roles(), key=list(Role).index)

    @field("The organization of the caller's tenant; null while it belongs to none.")
    async def organization(self, info: Info) -> Organization | None:
        if self.principal.organization_id is None:
            return None
        found = await info.context.loaders.organization.load(self.principal.organization_id)
        return Organization.from_model(found) if found else None

    @field("The caller's own stored role assignments.")
    async def role_assignments(self, info: Info) -> list[RoleAssignment]:
        if self.principal.user_id is None or self.principal.organization_id is None:
            return []
        found = await info.context.loaders.assignments_of_user.load(self.principal.user_id)
        return [RoleAssignment.from_model(item) for item in found]

    @field(
        "Home-page notices: this fiscal year's EMAIL invitations not dismissed by the caller and not "
        "yet enrolled; every one of the organization for its Global and Account admins, those of the "
        "(location, program) pairs they administer for an INCENTIVES_ADMIN.",
        Action.INVITATION_NOTICES,
    )
    async def invitations(self, info: Info) -> list[Invitation]:
        found = await home_page_notices_of(info)
        info.context.loaders.invitation.prime_many({item.id: item for item in found})
        return [Invitation.from_model(item) for item in found]


async def home_page_notices_of(info: Info) -> list[models.Invitation]:
    """The caller's home-page notices now (`viewer.invitations`, and the subscription's snapshot)."""
    principal = info.context.principal
    organization_id = principal.organization_id
    if organization_id is None:
        return []
    coverage = principal.coverage(Action.INVITATION_NOTICES, organization_id)
    fiscal_year = fiscal_year_of(info.context.clock.today())
    return await info.context.loaders.run(
        lambda session: home_page_notices(
            session,
            organization_id=organization_id,
            user_id=principal.user_id,
            coverage=coverage,
            fiscal_year=fiscal_year,
        )
    )
