"""Who gets an invitation email (contract rule 7), read for all organizations in a few statements."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from domain.access import Grant, Role
from domain.model import (
    OrganizationTenant,
    RoleAssignment,
    RoleAssignmentLocation,
    RoleAssignmentProgram,
    User,
)


@dataclass(frozen=True)
class Recipients:
    """Incentives admins (with what they cover) and Global/Account admins, by organization."""

    incentive_admins: dict[int, list[tuple[Grant, str]]] = field(default_factory=dict)
    org_admins: dict[int, list[str]] = field(default_factory=dict)

    def for_invitation(
        self, organization_id: int, location_id: int, program_id: int
    ) -> tuple[list[str], bool]:
        """The addresses to write to, and whether they are the fallback (asked to assign an admin)."""
        admins = self.incentive_admins.get(organization_id, [])
        covering = [email for grant, email in admins if grant.covers(location_id, program_id)]
        if covering:
            return _distinct(covering), False
        return _distinct(self.org_admins.get(organization_id, [])), True


def _distinct(addresses: list[str]) -> list[str]:
    return sorted({address.lower(): address for address in addresses}.values(), key=str.lower)


async def load_recipients(session: AsyncSession) -> Recipients:
    return Recipients(await _incentive_admins(session), await _org_admins(session))


async def _incentive_admins(session: AsyncSession) -> dict[int, list[tuple[Grant, str]]]:
    statement = (
        select(
            RoleAssignment.id,
            RoleAssignment.organization_id,
            RoleAssignment.all_locations,
            RoleAssignment.all_programs,
            User.email,
        )
        .join(User, User.id == RoleAssignment.user_id)
        .where(RoleAssignment.role == Role.INCENTIVES_ADMIN, User.email.is_not(None))
    )
    rows = (await session.execute(statement)).all()
    locations = await _scoped(
        session, RoleAssignmentLocation.assignment_id, RoleAssignmentLocation.location_id
    )
    programs = await _scoped(session, RoleAssignmentProgram.assignment_id, RoleAssignmentProgram.program_id)
    found: dict[int, list[tuple[Grant, str]]] = defaultdict(list)
    for assignment_id, organization_id, all_locations, all_programs, email in rows:
        grant = Grant(
            Role.INCENTIVES_ADMIN,
            None if all_locations else frozenset(locations[assignment_id]),
            None if all_programs else frozenset(programs[assignment_id]),
        )
        found[organization_id].append((grant, email or ""))
    return found


async def _scoped(
    session: AsyncSession, parent: InstrumentedAttribute[int], child: InstrumentedAttribute[int]
) -> dict[int, set[int]]:
    statement = (
        select(parent, child)
        .join(RoleAssignment, RoleAssignment.id == parent)
        .where(RoleAssignment.role == Role.INCENTIVES_ADMIN)
    )
    found: dict[int, set[int]] = defaultdict(set)
    for assignment_id, child_id in await session.execute(statement):
        found[assignment_id].add(child_id)
    return found


async def _org_admins(session: AsyncSession) -> dict[int, list[str]]:
    global_admins = (
        select(OrganizationTenant.organization_id, User.email)
        .join(User, User.tenant_id == OrganizationTenant.tenant_id)
        .where(User.seen_as_global_admin.is_(True), User.email.is_not(None))
    )
    account_admins = (
        select(RoleAssignment.organization_id, User.email)
        .join(User, User.id == RoleAssignment.user_id)
        .where(RoleAssignment.role == Role.ACCOUNT_ADMIN, User.email.is_not(None))
    )
    found: dict[int, list[str]] = defaultdict(list)
    for statement in (global_admins, account_admins):
        for organization_id, email in await session.execute(statement):
            found[organization_id].append(email or "")
    return found
