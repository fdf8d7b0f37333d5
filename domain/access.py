"""Who may do what: the roles, the actions, and the one table that maps each action to the roles
(and the reach) that allow it.

Everything else about access is derived from `POLICY`: `auth.principal.Principal.can` and
`.coverage` evaluate it, the SQL visibility filters follow from `coverage`, and the API's
FORBIDDEN messages and "Requires one of: ..." descriptions are `requirement(action)`.
`docs/access-matrix.md` prints it for every field and mutation of the schema.

    POLICY[Action.READ_TAX_PROFILE] == (
        Allow(Holder.GLOBAL_ADMIN, Reach.ORGANIZATION),
        Allow(Holder.INCENTIVES_ADMIN, Reach.COVERED),
    )
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


class Role(enum.StrEnum):
    """A partner role. GLOBAL_ADMIN comes from the token (Entra); the others are stored assignments."""

    GLOBAL_ADMIN = "GLOBAL_ADMIN"
    ACCOUNT_ADMIN = "ACCOUNT_ADMIN"
    INCENTIVES_ADMIN = "INCENTIVES_ADMIN"
    INCENTIVES_USER = "INCENTIVES_USER"


INCENTIVE_ROLES = frozenset({Role.INCENTIVES_ADMIN, Role.INCENTIVES_USER})


class Holder(enum.Enum):
    """Who an allowance is for: a partner role, or a kind of caller."""

    GLOBAL_ADMIN = "GLOBAL_ADMIN"
    ACCOUNT_ADMIN = "ACCOUNT_ADMIN"
    INCENTIVES_ADMIN = "INCENTIVES_ADMIN"
    INCENTIVES_USER = "INCENTIVES_USER"
    MEMBER = "member"  # any signed-in user of the organization's tenants
    OPERATOR = "operator"  # incentives operations staff (the operator tenant's Incentives.Operator)
    ASSIGNEE = "assignee"  # the user a role assignment names

    @property
    def role(self) -> Role | None:
        return Role(self.value) if self.value in Role.__members__ else None


class Reach(enum.Enum):
    """Where an allowance holds."""

    ANYWHERE = "anywhere"  # every organization, or none at all
    ORGANIZATION = "organization"  # anywhere in the caller's own organization
    ANY_LOCATION = "any location"  # the caller's organization, for a holder of the role at any location
    COVERED = "covered"  # the location (and program) of the scope, covered by the holder's assignment
    OWN = "own"  # what the scope names is the caller's own (`Scope.user_id`)


@dataclass(frozen=True)
class Allow:
    holder: Holder
    reach: Reach

    @property
    def phrase(self) -> str:
        """How the API's descriptions and FORBIDDEN messages name this allowance."""
        return _PHRASES.get((self.holder, self.reach)) or self.holder.value


class Action(enum.Enum):
    REGISTER_ORGANIZATION = enum.auto()
    READ_ORGANIZATION = enum.auto()
    MANAGE_ORGANIZATION = enum.auto()  # add locations
    COMPLETE_MIGRATION = enum.auto()  # rule 19: the Incentives admins perform the migration (seed 002)
    MANAGE_ROLES = enum.auto()  # assign and revoke roles, search the directory
    READ_ROLE_ASSIGNMENTS = enum.auto()  # all of an organization's assignments
    READ_ROLE_ASSIGNMENT = enum.auto()  # one assignment
    READ_AUDIT_LOG = enum.auto()
    READ_ENROLLMENT = enum.auto()  # enrollments and invitations of (location, program)
    READ_ENROLLMENT_DETAIL = enum.auto()  # the real in-progress status and what action it needs
    ENROLL = enum.auto()  # enroll, update an enrollment
    INVITATION_NOTICES = enum.auto()  # see and dismiss invitation notices on the home page (rule 17)
    MANAGE_PAYMENT_PROFILES = enum.auto()
    READ_BANK_DETAILS = enum.auto()
    MANAGE_TAX_PROFILE = enum.auto()
    READ_TAX_PROFILE = enum.auto()
    OPERATE = enum.auto()  # programs, agreements, designations, invitations, reviews, roll-forward, mail


H, R = Holder, Reach
ORGANIZATION_ADMINS = (Allow(H.GLOBAL_ADMIN, R.ORGANIZATION), Allow(H.ACCOUNT_ADMIN, R.ORGANIZATION))
OPERATORS = (Allow(H.OPERATOR, R.ANYWHERE),)

POLICY: Mapping[Action, tuple[Allow, ...]] = {
    # Registering is for a Global admin of a tenant with no organization yet (a second one: CONFLICT).
    Action.REGISTER_ORGANIZATION: (Allow(H.GLOBAL_ADMIN, R.ANYWHERE),),
    Action.READ_ORGANIZATION: (Allow(H.MEMBER, R.ORGANIZATION), *OPERATORS),
    Action.MANAGE_ORGANIZATION: ORGANIZATION_ADMINS,
    Action.COMPLETE_MIGRATION: (*ORGANIZATION_ADMINS, Allow(H.INCENTIVES_ADMIN, R.ANY_LOCATION)),
    Action.MANAGE_ROLES: ORGANIZATION_ADMINS,
    Action.READ_ROLE_ASSIGNMENTS: ORGANIZATION_ADMINS,
    Action.READ_ROLE_ASSIGNMENT: (*ORGANIZATION_ADMINS, Allow(H.ASSIGNEE, R.OWN)),
    Action.READ_AUDIT_LOG: (Allow(H.GLOBAL_ADMIN, R.ORGANIZATION),),
    Action.READ_ENROLLMENT: (
        *ORGANIZATION_ADMINS,
        Allow(H.INCENTIVES_ADMIN, R.COVERED),
        Allow(H.INCENTIVES_USER, R.COVERED),
        *OPERATORS,
    ),
    # Operators review enrollments, so they see the real status; other readers see ENROLLING.
    Action.READ_ENROLLMENT_DETAIL: (Allow(H.INCENTIVES_ADMIN, R.COVERED), *OPERATORS),
    # Global and Account admins cannot enroll unless they also hold the Incentives admin assignment.
    Action.ENROLL: (Allow(H.INCENTIVES_ADMIN, R.COVERED),),
    # Rule 17: invitations go to the Global admin, the Account admin and the Incentives admin.
    Action.INVITATION_NOTICES: (*ORGANIZATION_ADMINS, Allow(H.INCENTIVES_ADMIN, R.COVERED)),
    Action.MANAGE_PAYMENT_PROFILES: (Allow(H.INCENTIVES_ADMIN, R.ANY_LOCATION),),
    Action.READ_BANK_DETAILS: (
        Allow(H.GLOBAL_ADMIN, R.ORGANIZATION),
        Allow(H.INCENTIVES_ADMIN, R.ANY_LOCATION),
    ),
    Action.MANAGE_TAX_PROFILE: (Allow(H.INCENTIVES_ADMIN, R.COVERED),),
    Action.READ_TAX_PROFILE: (Allow(H.GLOBAL_ADMIN, R.ORGANIZATION), Allow(H.INCENTIVES_ADMIN, R.COVERED)),
    Action.OPERATE: OPERATORS,
}

_PHRASES: Mapping[tuple[Holder, Reach], str] = {
    (
        H.GLOBAL_ADMIN,
        R.ANYWHERE,
    ): "GLOBAL_ADMIN (Entra Global Administrator) of a tenant without an organization",
    (H.MEMBER, R.ORGANIZATION): "a member of the organization's tenants",
    (H.INCENTIVES_ADMIN, R.ANY_LOCATION): "INCENTIVES_ADMIN (any location)",
    (H.INCENTIVES_ADMIN, R.COVERED): "INCENTIVES_ADMIN covering it",
    (H.INCENTIVES_USER, R.COVERED): "INCENTIVES_USER covering it",
    (H.ASSIGNEE, R.OWN): "the assigned user (their own)",
}
SIGNED_IN = "Requires: any signed-in caller."


def holders(action: Action) -> str:
    """Who is allowed `action`, as a list: `INCENTIVES_ADMIN covering it, operator (...)`."""
    return ", ".join(allow.phrase for allow in POLICY[action])


def requirement(action: Action | None) -> str:
    """`Requires one of: GLOBAL_ADMIN, ACCOUNT_ADMIN.` (None: any signed-in caller)."""
    if action is None:
        return SIGNED_IN
    phrases = [allow.phrase for allow in POLICY[action]]
    if len(phrases) == 1:
        return f"Requires: {phrases[0]}."
    return f"Requires one of: {', '.join(phrases)}."


@dataclass(frozen=True)
class Scope:
    """Where an action applies; fields left None do not narrow it.

    `user_id` names whose own thing it is (a role assignment's user), for `Reach.OWN`.
    """

    organization_id: int | None = None
    location_id: int | None = None
    program_id: int | None = None
    user_id: int | None = None


@dataclass(frozen=True)
class Grant:
    """One stored Incentives role assignment, reduced to what it covers.

    `location_ids` None means the entire organization (locations added later included);
    `program_ids` None means every program.
    """

    role: Role
    location_ids: frozenset[int] | None
    program_ids: frozenset[int] | None

    def covers_location(self, location_id: int) -> bool:
        return self.location_ids is None or location_id in self.location_ids

    def covers_program(self, program_id: int) -> bool:
        return self.program_ids is None or program_id in self.program_ids

    def covers(self, location_id: int, program_id: int) -> bool:
        return self.covers_location(location_id) and self.covers_program(program_id)

    def covers_scope(self, scope: Scope) -> bool:
        """Covers the scope's location and program, where it names them."""
        return (scope.location_id is None or self.covers_location(scope.location_id)) and (
            scope.program_id is None or self.covers_program(scope.program_id)
        )


@dataclass(frozen=True)
class Coverage:
    """The (location, program) pairs of one organization an actor reaches, for filtering lists."""

    everything: bool
    grants: tuple[Grant, ...] = ()

    @classmethod
    def none(cls) -> Coverage:
        return cls(everything=False)

    @property
    def is_empty(self) -> bool:
        return not self.everything and not self.grants

    def covers(self, location_id: int, program_id: int) -> bool:
        return self.everything or any(g.covers(location_id, program_id) for g in self.grants)


class Caller(Protocol):
    """What the policy needs to know of a caller (`auth.principal.Principal`)."""

    @property
    def organization_id(self) -> int | None: ...

    @property
    def user_id(self) -> int | None: ...

    @property
    def is_global_admin(self) -> bool: ...

    @property
    def is_account_admin(self) -> bool: ...

    @property
    def is_operator(self) -> bool: ...

    @property
    def grants(self) -> tuple[Grant, ...]: ...


def permits(caller: Caller, action: Action, scope: Scope = Scope()) -> bool:
    """Whether any allowance of `action` holds for `caller` at `scope`."""
    return any(_holds(caller, allow, scope) for allow in POLICY[action])


def coverage(caller: Caller, action: Action, organization_id: int) -> Coverage:
    """The (location, program) pairs of the organization where `permits(caller, action, ...)` holds."""
    roles: set[Role] = set()
    member = _member_of(caller, Scope(organization_id=organization_id))
    for allow in POLICY[action]:
        if not _is(caller, allow.holder) or allow.reach is Reach.OWN:
            continue
        if allow.reach is Reach.ANYWHERE:
            return Coverage(everything=True)
        if not member:
            continue
        if allow.reach is Reach.COVERED and allow.holder.role is not None:
            roles.add(allow.holder.role)
        else:
            return Coverage(everything=True)
    return Coverage(everything=False, grants=tuple(g for g in caller.grants if g.role in roles))


def _holds(caller: Caller, allow: Allow, scope: Scope) -> bool:
    if not _is(caller, allow.holder):
        return False
    if allow.reach is Reach.ANYWHERE:
        return True
    if not _member_of(caller, scope):
        return False
    if allow.reach is Reach.COVERED:
        return any(g.role is allow.holder.role and g.covers_scope(scope) for g in caller.grants)
    if allow.reach is Reach.OWN:
        return scope.user_id is not None and scope.user_id == caller.user_id
    return True  # ORGANIZATION, ANY_LOCATION: the holder is a member of it


def _is(caller: Caller, holder: Holder) -> bool:
    if holder is Holder.GLOBAL_ADMIN:
        return caller.is_global_admin
    if holder is Holder.ACCOUNT_ADMIN:
        return caller.is_account_admin
    if holder is Holder.OPERATOR:
        return caller.is_operator
    if holder is Holder.MEMBER:
        return caller.organization_id is not None
    if holder is Holder.ASSIGNEE:
        return caller.user_id is not None
    return any(grant.role is holder.role for grant in caller.grants)


def _member_of(caller: Caller, scope: Scope) -> bool:
    return caller.organization_id is not None and scope.organization_id in (None, caller.organization_id)


class Actor(Protocol):
    """Whoever is acting: a signed-in user, a daemon, or the command line."""

    @property
    def tenant_id(self) -> str: ...

    @property
    def object_id(self) -> str: ...

    @property
    def display_name(self) -> str | None: ...

    @property
    def email(self) -> str | None: ...

    @property
    def organization_id(self) -> int | None:
        """The organization the actor's tenant belongs to, if any."""
        ...

    def can(self, action: Action, scope: Scope = Scope()) -> bool: ...

    def coverage(self, action: Action, organization_id: int) -> Coverage:
        """The (location, program) pairs of the organization where `can(action, ...)` holds;
        lists filter with it in SQL."""
        ...
