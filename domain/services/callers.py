"""Who a signed-in caller is in our records: their organization and stored role assignments."""

from __future__ import annotations

from dataclasses import dataclass

from domain.access import Grant
from domain.uow import UnitOfWork
from domain.vocabulary import Role


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
    organization, writing only when something changed."""
    raise NotImplementedError
