"""Who gets an invitation email, read for all organizations in a few statements (rule 17): the
Incentives admins covering (location, program) and the organization's Global and Account admins,
each with an address, once per person; when no covering Incentives admin has an address, the
Global and Account admins' email also asks them to assign one."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import Grant, Role
from domain.model import OrganizationTenant, RoleAssignment, User
from domain.queries import people


@dataclass(frozen=True)
class Recipients:
    """Incentives admins (with what they cover) and Global/Account admins, by organization."""

    incentive_admins: dict[int, list[tuple[Grant, str]]] = field(default_factory=dict)
    org_admins: dict[int, list[str]] = field(default_factory=dict)

    def for_invitation(
        self, organization_id: int, location_id: int, program_id: int
    ) -> list[tuple[str, bool]]:
        """Each address to write to once, with whether its email asks to assign an Incentives admin."""
        admins = self.incentive_admins.get(organization_id, [])
        covering = _distinct([email for grant, email in admins if grant.covers(location_id, program_id)])
        written = {address.lower() for address in covering}
        others = [
            address
            for address in _distinct(self.org_admins.get(organization_id, []))
            if address.lower() not in written
        ]
        ask = not covering
        return [(address, False) for address in covering] + [(address, ask) for address in others]


def _distinct(addresses: list[str]) -> list[str]:
    return sorted({address.lower(): address for address in addresses}.values(), key=str.lower)


async def load_recipients(session: AsyncSession) -> Recipients:
    return Recipients(await _incentive_admins(session), await _org_admins(session))


async def _incentive_admins(session: AsyncSession) -> dict[int, list[tuple[Grant, str]]]:
    """Every Incentives admin with an address, with what their assignment covers (two statements)."""
    assigned = await people.assignments_where(session, RoleAssignment.role == Role.INCENTIVES_ADMIN)
    with_address = select(User.id, User.email).where(
        User.email.is_not(None),
        User.id.in_(select(RoleAssignment.user_id).where(RoleAssignment.role == Role.INCENTIVES_ADMIN)),
    )
    addresses = {user_id: email for user_id, email in await session.execute(with_address) if email}
    found: dict[int, list[tuple[Grant, str]]] = defaultdict(list)
    for held in assigned.values():
        if held.user_id in addresses:
            found[held.organization_id].append((held.grant, addresses[held.user_id]))
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
