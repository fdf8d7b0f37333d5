"""Who gets an invitation email, read for all organizations in a few statements (rule 17): the
Incentives admins covering (location, program) and the organization's Global and Account admins,
each with an address, once per person. The Global and Account admins' email asks them to assign an
Incentives admin only when none covers the invitation, and says so when some do but none has an
address (rule 26)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import Grant, Role
from domain.mail.messages import Wording
from domain.model import OrganizationTenant, RoleAssignment, User
from domain.queries import people


@dataclass(frozen=True)
class Recipients:
    """Incentives admins (with what they cover, and their address or None) and Global/Account
    admins, by organization."""

    incentive_admins: dict[int, list[tuple[Grant, str | None]]] = field(default_factory=dict)
    org_admins: dict[int, list[str]] = field(default_factory=dict)

    def for_invitation(
        self, organization_id: int, location_id: int, program_id: int
    ) -> list[tuple[str, Wording]]:
        """Each address to write to once, with the body its email gets."""
        covering = self.covering(organization_id, location_id, program_id)
        addressed = self.covering_addresses(organization_id, location_id, program_id)
        written = {address.lower() for address in addressed}
        others = [
            address
            for address in _distinct(self.org_admins.get(organization_id, []))
            if address.lower() not in written
        ]
        if addressed:
            wording = Wording.INVITED
        else:
            wording = Wording.ADMINS_WITHOUT_ADDRESS if covering else Wording.NEEDS_ADMIN
        return [(address, Wording.INVITED) for address in addressed] + [(a, wording) for a in others]

    def covering(self, organization_id: int, location_id: int, program_id: int) -> list[str | None]:
        """The address (or None) of each Incentives admin assignment covering (location, program)."""
        admins = self.incentive_admins.get(organization_id, [])
        return [email for grant, email in admins if grant.covers(location_id, program_id)]

    def covering_addresses(self, organization_id: int, location_id: int, program_id: int) -> list[str]:
        return _distinct([a for a in self.covering(organization_id, location_id, program_id) if a])

    def org_admin_addresses(self, organization_id: int) -> list[str]:
        return _distinct(self.org_admins.get(organization_id, []))


def _distinct(addresses: list[str]) -> list[str]:
    return sorted({address.lower(): address for address in addresses}.values(), key=str.lower)


async def load_recipients(session: AsyncSession, organization_id: int | None = None) -> Recipients:
    """Everyone's, or one organization's."""
    assignments = [] if organization_id is None else [RoleAssignment.organization_id == organization_id]
    tenants = [] if organization_id is None else [OrganizationTenant.organization_id == organization_id]
    return Recipients(
        await _incentive_admins(session, assignments), await _org_admins(session, assignments, tenants)
    )


async def _incentive_admins(
    session: AsyncSession, scoped: list[ColumnElement[bool]]
) -> dict[int, list[tuple[Grant, str | None]]]:
    """Every Incentives admin, with what their assignment covers and their address (two statements):
    one without an address still covers the invitation (rule 26)."""
    incentive_admin = RoleAssignment.role == Role.INCENTIVES_ADMIN
    assigned = await people.assignments_where(session, incentive_admin, *scoped)
    held_by = select(RoleAssignment.user_id).where(incentive_admin, *scoped)
    addresses = {
        user_id: email or None
        for user_id, email in await session.execute(select(User.id, User.email).where(User.id.in_(held_by)))
    }
    found: dict[int, list[tuple[Grant, str | None]]] = defaultdict(list)
    for held in assigned.values():
        found[held.organization_id].append((held.grant, addresses.get(held.user_id)))
    return found


async def _org_admins(
    session: AsyncSession, assignments: list[ColumnElement[bool]], tenants: list[ColumnElement[bool]]
) -> dict[int, list[str]]:
    global_admins = (
        select(OrganizationTenant.organization_id, User.email)
        .join(User, User.tenant_id == OrganizationTenant.tenant_id)
        .where(User.seen_as_global_admin.is_(True), User.email.is_not(None), *tenants)
    )
    account_admins = (
        select(RoleAssignment.organization_id, User.email)
        .join(User, User.id == RoleAssignment.user_id)
        .where(RoleAssignment.role == Role.ACCOUNT_ADMIN, User.email.is_not(None), *assignments)
    )
    found: dict[int, list[str]] = defaultdict(list)
    for statement in (global_admins, account_admins):
        for organization_id, email in await session.execute(statement):
            found[organization_id].append(email or "")
    return found
