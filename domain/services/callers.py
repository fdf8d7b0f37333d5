"""Who a signed-in caller is in our records: their organization and stored role assignments."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from domain.access import INCENTIVE_ROLES, Grant, Role
from domain.caller_versions import current_version
from domain.model import OrganizationTenant, RoleAssignment, User
from domain.queries import people
from domain.uow import UnitOfWork
from domain.users import find_user, remember_user
from domain.validation import usable_email


@dataclass(frozen=True)
class CallerRecord:
    organization_id: int | None  # the organization of the caller's tenant, if any
    user_id: int | None  # the users row, None when the service has never stored this caller
    org_roles: frozenset[Role]  # stored organization-wide roles (ACCOUNT_ADMIN)
    grants: tuple[Grant, ...]  # stored INCENTIVES_ADMIN / INCENTIVES_USER assignments


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
    organization, writing only when something changed. A claimed email mail could not be sent to
    (CR/LF in it, say) is not remembered."""
    email = usable_email(email)
    async with uow:
        organization_id = await uow.session.scalar(
            select(OrganizationTenant.organization_id).where(OrganizationTenant.tenant_id == tenant_id)
        )
        user = await find_user(uow.session, tenant_id, object_id)
        if organization_id is None:
            return CallerRecord(None, None if user is None else user.id, frozenset(), ())
        held = [] if user is None else await _grants(uow, organization_id, user.id)
        if user is None or _differs(user, display_name, email, is_global_admin):
            user = await _remember(uow, user, tenant_id, object_id, display_name, email, is_global_admin)
        org_roles = frozenset(g.role for g in held if g.role is Role.ACCOUNT_ADMIN)
        grants = tuple(g for g in held if g.role in INCENTIVE_ROLES)
        return CallerRecord(organization_id, user.id if user is not None else None, org_roles, grants)


async def callers_version(uow: UnitOfWork, tenant_id: str) -> int:
    """The version of the tenant's callers now (one primary-key read): what a caller was read as
    at another version may no longer hold (`domain.caller_versions`)."""
    async with uow:
        return await current_version(uow.session, tenant_id)


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


async def _grants(uow: UnitOfWork, organization_id: int, user_id: int) -> list[Grant]:
    """The user's assignments in the organization, with their locations and programs (one SELECT)."""
    mine = await people.assignments_where(
        uow.session, RoleAssignment.organization_id == organization_id, RoleAssignment.user_id == user_id
    )
    return [assigned.grant for assigned in mine.values()]
