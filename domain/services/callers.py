"""Who a signed-in caller is in our records: their organization and stored role assignments."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from domain.access import INCENTIVE_ROLES, Grant, Role
from domain.model import (
    OrganizationTenant,
    RoleAssignment,
    RoleAssignmentLocation,
    RoleAssignmentProgram,
    User,
)
from domain.uow import UnitOfWork
from domain.users import find_user, remember_user


@dataclass(frozen=True)
class CallerRecord:
    organization_id: int | None  # the organization of the caller's tenant, if any
    user_id: int | None  # the users row, None when the service has never stored this caller
    org_roles: frozenset[Role]  # stored organization-wide roles (ACCOUNT_ADMIN)
    grants: tuple[Grant, ...]  # stored INCENTIVES_ADMIN / INCENTIVES_USER assignments


@dataclass
class _Scope:
    """One assignment read back row by row: its role, flags and the ids it names."""

    role: Role
    all_locations: bool
    all_programs: bool
    locations: set[int] = field(default_factory=set)
    programs: set[int] = field(default_factory=set)

    def grant(self) -> Grant:
        return Grant(
            self.role,
            None if self.all_locations else frozenset(self.locations),
            None if self.all_programs else frozenset(self.programs),
        )


async def load_caller(
    uow: UnitOfWork,
    *,
    tenant_id: str,
    object_id: str,
    display_name: str | None,
    email: str | None,
    is_global_admin: bool,
) -> CallerRecord:
    """Load the caller's organization and assignments in at most 3 statements, and remember the
    caller (users row: name, email, seen_as_global_admin) when the tenant belongs to an
    organization, writing only when something changed."""
    async with uow:
        organization_id = await uow.session.scalar(
            select(OrganizationTenant.organization_id).where(OrganizationTenant.tenant_id == tenant_id)
        )
        user = await find_user(uow.session, tenant_id, object_id)
        if organization_id is None:
            return CallerRecord(None, None if user is None else user.id, frozenset(), ())
        scopes = [] if user is None else await _assignments(uow, organization_id, user.id)
        if user is None or _differs(user, display_name, email, is_global_admin):
            user = await _remember(uow, user, tenant_id, object_id, display_name, email, is_global_admin)
        org_roles = frozenset(s.role for s in scopes if s.role is Role.ACCOUNT_ADMIN)
        grants = tuple(s.grant() for s in scopes if s.role in INCENTIVE_ROLES)
        return CallerRecord(organization_id, user.id if user is not None else None, org_roles, grants)


def _differs(user: User, display_name: str | None, email: str | None, is_global_admin: bool) -> bool:
    return (
        (display_name is not None and user.display_name != display_name)
        or (email is not None and user.email != email)
        or user.seen_as_global_admin != is_global_admin
    )


async def _remember(
    uow: UnitOfWork,
    user: User | None,
    tenant_id: str,
    object_id: str,
    display_name: str | None,
    email: str | None,
    is_global_admin: bool,
) -> User | None:
    try:
        user = await remember_user(
            uow.session,
            tenant_id=tenant_id,
            object_id=object_id,
            display_name=display_name,
            email=email,
            seen_as_global_admin=is_global_admin,
            seen_at=uow.clock.now(),
        )
        await uow.commit()
    except IntegrityError:
        # Remembering is a courtesy: a concurrent request's write is as good as ours.
        await uow.session.rollback()
        return await find_user(uow.session, tenant_id, object_id)
    return user


async def _assignments(uow: UnitOfWork, organization_id: int, user_id: int) -> list[_Scope]:
    """The user's assignments in the organization with their locations and programs, in one SELECT."""
    statement = (
        select(
            RoleAssignment.id,
            RoleAssignment.role,
            RoleAssignment.all_locations,
            RoleAssignment.all_programs,
            RoleAssignmentLocation.location_id,
            RoleAssignmentProgram.program_id,
        )
        .outerjoin(RoleAssignmentLocation, RoleAssignmentLocation.assignment_id == RoleAssignment.id)
        .outerjoin(RoleAssignmentProgram, RoleAssignmentProgram.assignment_id == RoleAssignment.id)
        .where(RoleAssignment.organization_id == organization_id, RoleAssignment.user_id == user_id)
    )
    scopes: dict[int, _Scope] = {}
    for (
        assignment_id,
        role,
        all_locations,
        all_programs,
        location_id,
        program_id,
    ) in await uow.session.execute(statement):
        scope = scopes.setdefault(assignment_id, _Scope(role, all_locations, all_programs))
        if location_id is not None:
            scope.locations.add(location_id)
        if program_id is not None:
            scope.programs.add(program_id)
    return list(scopes.values())
