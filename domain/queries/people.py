"""Users and what they hold: assignments' scopes, incentive admins of locations, admin contacts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import Role
from domain.model import (
    Location,
    OrganizationTenant,
    RoleAssignment,
    RoleAssignmentLocation,
    RoleAssignmentProgram,
    User,
)


@dataclass(frozen=True)
class Contact:
    """An administrator of an organization known to the service (rule 7's fallback recipients)."""

    user_id: int
    display_name: str | None
    email: str | None
    role: Role


async def location_ids_by_assignment(
    session: AsyncSession, assignment_ids: Iterable[int]
) -> dict[int, list[int]]:
    """The listed locations of each assignment ([] for org-wide ones: check `all_locations`)."""
    ids = sorted(set(assignment_ids))
    statement = (
        select(RoleAssignmentLocation)
        .where(RoleAssignmentLocation.assignment_id.in_(ids))
        .order_by(RoleAssignmentLocation.location_id)
    )
    found: dict[int, list[int]] = defaultdict(list)
    for row in (await session.execute(statement)).scalars():
        found[row.assignment_id].append(row.location_id)
    return {assignment_id: found.get(assignment_id, []) for assignment_id in ids}


async def program_ids_by_assignment(
    session: AsyncSession, assignment_ids: Iterable[int]
) -> dict[int, list[int]]:
    """The listed programs of each assignment ([] for all-program ones: check `all_programs`)."""
    ids = sorted(set(assignment_ids))
    statement = (
        select(RoleAssignmentProgram)
        .where(RoleAssignmentProgram.assignment_id.in_(ids))
        .order_by(RoleAssignmentProgram.program_id)
    )
    found: dict[int, list[int]] = defaultdict(list)
    for row in (await session.execute(statement)).scalars():
        found[row.assignment_id].append(row.program_id)
    return {assignment_id: found.get(assignment_id, []) for assignment_id in ids}


async def assignments_of_users(
    session: AsyncSession, user_ids: Iterable[int]
) -> dict[int, list[RoleAssignment]]:
    ids = sorted(set(user_ids))
    statement = select(RoleAssignment).where(RoleAssignment.user_id.in_(ids)).order_by(RoleAssignment.id)
    found: dict[int, list[RoleAssignment]] = defaultdict(list)
    for row in (await session.execute(statement)).scalars():
        found[row.user_id].append(row)
    return {user_id: found.get(user_id, []) for user_id in ids}


async def incentive_admins_by_location(
    session: AsyncSession, location_ids: Iterable[int]
) -> dict[int, list[User]]:
    """Users whose INCENTIVES_ADMIN assignment covers each location: org-wide, or listing it."""
    ids = sorted(set(location_ids))
    listed = exists().where(
        RoleAssignmentLocation.assignment_id == RoleAssignment.id,
        RoleAssignmentLocation.location_id == Location.id,
    )
    statement = (
        select(Location.id, User)
        .join(RoleAssignment, RoleAssignment.organization_id == Location.organization_id)
        .join(User, User.id == RoleAssignment.user_id)
        .where(
            Location.id.in_(ids),
            RoleAssignment.role == Role.INCENTIVES_ADMIN,
            or_(RoleAssignment.all_locations.is_(True), listed),
        )
        .order_by(Location.id, User.id)
    )
    found: dict[int, dict[int, User]] = defaultdict(dict)
    for location_id, user in await session.execute(statement):
        found[location_id][user.id] = user
    return {location_id: list(found.get(location_id, {}).values()) for location_id in ids}


async def admin_contacts_by_organization(
    session: AsyncSession, organization_ids: Iterable[int]
) -> dict[int, list[Contact]]:
    """Global admins seen on the organization's tenants, then its Account admins (two statements)."""
    ids = sorted(set(organization_ids))
    found: dict[int, list[Contact]] = defaultdict(list)
    global_admins = (
        select(OrganizationTenant.organization_id, User)
        .join(User, User.tenant_id == OrganizationTenant.tenant_id)
        .where(OrganizationTenant.organization_id.in_(ids), User.seen_as_global_admin.is_(True))
        .order_by(User.id)
    )
    account_admins = (
        select(RoleAssignment.organization_id, User)
        .join(User, User.id == RoleAssignment.user_id)
        .where(RoleAssignment.organization_id.in_(ids), RoleAssignment.role == Role.ACCOUNT_ADMIN)
        .order_by(User.id)
    )
    for statement, role in ((global_admins, Role.GLOBAL_ADMIN), (account_admins, Role.ACCOUNT_ADMIN)):
        for organization_id, user in await session.execute(statement):
            contact = Contact(user.id, user.display_name, user.email, role)
            if contact not in found[organization_id]:
                found[organization_id].append(contact)
    return {organization_id: found.get(organization_id, []) for organization_id in ids}
