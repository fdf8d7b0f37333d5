"""What the domain needs to know about whoever is acting, and the actions it asks about.

The decision itself (which roles allow which action in which scope) is made in one place,
`auth.policy`; the domain only asks `actor.can(action, scope)` and reads the answer.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from domain.vocabulary import Role


class Action(enum.Enum):
    REGISTER_ORGANIZATION = enum.auto()  # a Global admin of a tenant
    READ_ORGANIZATION = enum.auto()  # members of the organization's tenants, operators
    MANAGE_ORGANIZATION = enum.auto()  # complete migration, add locations: Global/Account admin
    MANAGE_ROLES = enum.auto()  # assign and revoke roles: Global/Account admin
    READ_ROLE_ASSIGNMENTS = enum.auto()  # all of an organization's assignments: Global/Account admin
    READ_AUDIT_LOG = enum.auto()  # Global admin
    READ_ENROLLMENT = (
        enum.auto()
    )  # (location, program): Global/Account admin, covering Incentives roles, operators
    READ_ENROLLMENT_DETAIL = enum.auto()  # the real in-progress status: covering Incentives admin, operators
    ENROLL = enum.auto()  # (location, program): covering Incentives admin only
    MANAGE_PAYMENT_PROFILES = enum.auto()  # organization: Incentives admin of any location
    READ_BANK_DETAILS = enum.auto()  # organization: Incentives admin of any location, Global admin
    MANAGE_TAX_PROFILE = enum.auto()  # location: Incentives admin of that location
    READ_TAX_PROFILE = enum.auto()  # location: Incentives admin of that location, Global admin
    OPERATE = enum.auto()  # programs, agreements, designations, invitations, reviews, roll-forward


@dataclass(frozen=True)
class Scope:
    """Where an action applies; fields left None do not narrow it."""

    organization_id: int | None = None
    location_id: int | None = None
    program_id: int | None = None


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

    def covers(self, location_id: int, program_id: int) -> bool:
        return self.covers_location(location_id) and (
            self.program_ids is None or program_id in self.program_ids
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
        """The (location, program) pairs of the organization where `can(action, ...)` holds.

        For READ_ENROLLMENT, ENROLL and READ_ENROLLMENT_DETAIL; lists filter with it in SQL.
        """
        ...
