"""Who is calling: the token's identity joined with the roles stored for it.

Roles are the union of the token's (Global admin, operator) and the stored assignments
(Account admin, Incentives admin/user scoped to locations x programs). A client never picks a role.
What each role may do is `domain.access.POLICY`; `Principal.can` and `.coverage` evaluate it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.access import Action, Coverage, Grant, Role, Scope, coverage, permits

GLOBAL_ADMINISTRATOR_WID = "62e90394-69f5-4237-9190-012177145e10"
GLOBAL_ADMIN_APP_ROLE = "Partner.GlobalAdmin"
OPERATOR_APP_ROLE = "Incentives.Operator"
SYSTEM_OBJECT_ID = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True)
class Identity:
    """What a validated access token says about its bearer."""

    tenant_id: str
    object_id: str
    display_name: str | None = None
    email: str | None = None
    app_roles: frozenset[str] = frozenset()
    wids: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    is_app: bool = False
    client_app_id: str | None = None
    expires_at: datetime | None = None

    @property
    def claims_global_admin(self) -> bool:
        # A daemon never acts as a partner's Global admin, whatever its token says: registering an
        # organization and assigning roles are decisions a signed-in person answers for.
        if self.is_app:
            return False
        return GLOBAL_ADMINISTRATOR_WID in self.wids or GLOBAL_ADMIN_APP_ROLE in self.app_roles


@dataclass(frozen=True)
class Principal:
    """A caller with every role it holds; satisfies `domain.access.Actor`."""

    identity: Identity
    organization_id: int | None = None
    user_id: int | None = None
    is_operator: bool = False
    org_roles: frozenset[Role] = frozenset()
    grants: tuple[Grant, ...] = field(default=())

    @property
    def tenant_id(self) -> str:
        return self.identity.tenant_id

    @property
    def object_id(self) -> str:
        return self.identity.object_id

    @property
    def display_name(self) -> str | None:
        return self.identity.display_name

    @property
    def email(self) -> str | None:
        return self.identity.email

    @property
    def is_global_admin(self) -> bool:
        return self.identity.claims_global_admin

    @property
    def is_account_admin(self) -> bool:
        return self.organization_id is not None and Role.ACCOUNT_ADMIN in self.org_roles

    def roles(self) -> frozenset[Role]:
        """The roles this caller holds in its own organization (for display)."""
        held = set(self.org_roles) | {grant.role for grant in self.grants}
        if self.is_global_admin and self.organization_id is not None:
            held.add(Role.GLOBAL_ADMIN)
        return frozenset(held)

    def can(self, action: Action, scope: Scope = Scope()) -> bool:
        return permits(self, action, scope)

    def coverage(self, action: Action, organization_id: int) -> Coverage:
        return coverage(self, action, organization_id)


def system_principal(operator_tenant_id: str) -> Principal:
    """The command line acting as an operator (e.g. `incentives rollover`), audited as such."""
    identity = Identity(
        tenant_id=operator_tenant_id,
        object_id=SYSTEM_OBJECT_ID,
        display_name="incentives command line",
        app_roles=frozenset({OPERATOR_APP_ROLE}),
        is_app=True,
    )
    return Principal(identity=identity, is_operator=True)
