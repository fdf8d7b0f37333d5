"""Who is calling, and the one place that decides what they may do.

Roles are the union of the token's (Global admin, operator) and the stored assignments
(Account admin, Incentives admin/user scoped to locations x programs). A client never picks a role.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.access import Action, Coverage, Grant, Scope
from domain.vocabulary import Role

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
        if action is Action.OPERATE:
            return self.is_operator
        if action is Action.REGISTER_ORGANIZATION:
            return self.is_global_admin
        if self.is_operator and action in _OPERATOR_READS:
            # Operators read every organization and its enrollments, with their real status.
            return True
        if not self._member_of(scope):
            return False
        return self._allowed_in_own_organization(action, scope)

    def coverage(self, action: Action, organization_id: int) -> Coverage:
        if self.is_operator and action in _OPERATOR_READS:
            return Coverage(everything=True)
        if self.organization_id != organization_id:
            return Coverage.none()
        if action is Action.READ_ENROLLMENT and self._org_admin:
            return Coverage(everything=True)
        roles = _GRANT_ROLES.get(action, frozenset())
        return Coverage(everything=False, grants=self._grants_with(roles))

    @property
    def _org_admin(self) -> bool:
        return self.is_global_admin or self.is_account_admin

    def _member_of(self, scope: Scope) -> bool:
        return self.organization_id is not None and scope.organization_id in (
            None,
            self.organization_id,
        )

    def _grants_with(self, roles: frozenset[Role]) -> tuple[Grant, ...]:
        return tuple(grant for grant in self.grants if grant.role in roles)

    def _covered(self, roles: frozenset[Role], scope: Scope) -> bool:
        """Some grant with one of `roles` covers the scope's location and program (when given)."""
        for grant in self._grants_with(roles):
            if scope.location_id is not None and not grant.covers_location(scope.location_id):
                continue
            if scope.program_id is not None and not (
                grant.program_ids is None or scope.program_id in grant.program_ids
            ):
                continue
            return True
        return False

    def _allowed_in_own_organization(self, action: Action, scope: Scope) -> bool:
        admin = frozenset({Role.INCENTIVES_ADMIN})
        if action is Action.READ_ORGANIZATION:
            return True
        if action in (Action.MANAGE_ORGANIZATION, Action.MANAGE_ROLES):
            return self._org_admin
        if action is Action.READ_ROLE_ASSIGNMENTS:
            return self._org_admin
        if action is Action.READ_AUDIT_LOG:
            return self.is_global_admin
        if action is Action.READ_ENROLLMENT:
            return self._org_admin or self._covered(_INCENTIVE_ROLES, scope)
        if action in (Action.READ_ENROLLMENT_DETAIL, Action.ENROLL, Action.MANAGE_TAX_PROFILE):
            return self._covered(admin, scope)
        if action is Action.MANAGE_PAYMENT_PROFILES:
            return self._covered(admin, Scope())
        if action is Action.READ_BANK_DETAILS:
            return self.is_global_admin or self._covered(admin, Scope())
        if action is Action.READ_TAX_PROFILE:
            return self.is_global_admin or self._covered(admin, scope)
        return False


_INCENTIVE_ROLES = frozenset({Role.INCENTIVES_ADMIN, Role.INCENTIVES_USER})
_OPERATOR_READS = frozenset({Action.READ_ORGANIZATION, Action.READ_ENROLLMENT, Action.READ_ENROLLMENT_DETAIL})
_GRANT_ROLES = {
    Action.READ_ENROLLMENT: _INCENTIVE_ROLES,
    Action.READ_ENROLLMENT_DETAIL: frozenset({Role.INCENTIVES_ADMIN}),
    Action.ENROLL: frozenset({Role.INCENTIVES_ADMIN}),
}


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
