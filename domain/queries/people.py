"""Users and what they hold: assignments' scopes, incentive admins of locations, admin contacts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, exists, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import Grant, Role
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
    """An administrator of an organization known to the service (written to when a location has no
    Incentives admin)."""

    user_id: int
    display_name: str | None
    email: str | None
    role: Role


@dataclass(frozen=True)
class Assigned:
    """A stored role assignment and what it covers (`grant.role`, its locations and programs)."""

    id: int
    organization_id: int
    user_id: int
    grant: Grant


async def assignments_where(session: AsyncSession, *conditions: ColumnElement[bool]) -> dict[int, Assigned]:
    """The role assignments meeting `conditions` (on `RoleAssignment`), by id in id order, each with
    the locations and programs it names: ONE statement, however many there are.

    The one answer to "what does an assignment cover", for signing callers in, duplicate checks,
    invitation recipients and the API's `RoleAssignment.locations` / `.programs`.
    """
    statement = (
        select(
            RoleAssignment.id,
            RoleAssignment.organization_id,
            RoleAssignment.user_id,
            RoleAssignment.role,
            RoleAssignment.all_locations,
            RoleAssignment.all_programs,
            RoleAssignmentLocation.location_id,
            RoleAssignmentProgram.program_id,
        )
        .outerjoin(RoleAssignmentLocation, RoleAssignmentLocation.assignment_id == RoleAssignment.id)
        .outerjoin(RoleAssignmentProgram, RoleAssignmentProgram.assignment_id == RoleAssignment.id)
        .where(*conditions)
        .order_by(RoleAssignment.id)
    )
    found: dict[int, _Scoped] = {}
    for row in await session.execute(statement):
        scoped = found.setdefault(row.id, _Scoped(row.organization_id, row.user_id, row.role))
        scoped.all_locations, scoped.all_programs = row.all_locations, row.all_programs
        if row.location_id is not None:
            scoped.locations.add(row.location_id)
        if row.program_id is not None:
            scoped.programs.add(row.program_id)
    return {assignment_id: scoped.assigned(assignment_id) for assignment_id, scoped in found.items()}


@dataclass
class _Scoped:
    """One assignment read back row by row (one row per location x program it names)."""

    organization_id: int
    user_id: int
    role: Role
    all_locations: bool = True
    all_programs: bool = True
    locations: set[int] = field(default_factory=set)
    programs: set[int] = field(default_factory=set)

    def assigned(self, assignment_id: int) -> Assigned:
        grant = Grant(
            self.role,
            None if self.all_locations else frozenset(self.locations),
            None if self.all_programs else frozenset(self.programs),
        )
        return Assigned(assignment_id, self.organization_id, self.user_id, grant)


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


async def display_names(session: AsyncSession, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The display names the service knows of users named by (tenant id, object id); unknown ones
    and those without a name are left out."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    statement = select(User.tenant_id, User.object_id, User.display_name).where(
        tuple_(User.tenant_id, User.object_id).in_(wanted)
    )
    rows = (await session.execute(statement)).all()
    return {(tenant, oid): name for tenant, oid, name in rows if name is not None}
