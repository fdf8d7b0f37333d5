"""Batch loads by primary key, and the small things that hang off one row (criteria, agreements).

Batch-first: a use case that needs one row asks for a batch of one, so the loaders and the use
cases share one answer to each question.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from domain.eligibility import Standing
from domain.model import (
    Agreement,
    AuditEvent,
    Base,
    Enrollment,
    Invitation,
    Location,
    Organization,
    OrganizationTenant,
    PaymentProfile,
    Program,
    ProgramCriterion,
    RoleAssignment,
    TaxProfile,
    User,
)
from domain.vocabulary import AgreementKind, CriterionKind

M = TypeVar("M", bound=Base)

# Every entity the API can name by a global id, by the kind written in that id.
BY_KIND: dict[str, type[Base]] = {
    "Organization": Organization,
    "Location": Location,
    "User": User,
    "RoleAssignment": RoleAssignment,
    "IncentiveProgram": Program,
    "Invitation": Invitation,
    "Enrollment": Enrollment,
    "PaymentProfile": PaymentProfile,
    "TaxProfile": TaxProfile,
    "AuditEvent": AuditEvent,
}


async def by_ids(session: AsyncSession, model: type[M], ids: Iterable[int]) -> dict[int, M]:
    """`{id: row}` for the ids that exist, in one statement."""
    key: InstrumentedAttribute[int] = model.id  # type: ignore[attr-defined]
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = (await session.execute(select(model).where(key.in_(wanted)))).scalars()
    return {row.id: row for row in rows}  # type: ignore[attr-defined]


async def organization_ids_by_tenant(session: AsyncSession, tenant_ids: Iterable[str]) -> dict[str, int]:
    statement = select(OrganizationTenant).where(OrganizationTenant.tenant_id.in_(sorted(set(tenant_ids))))
    return {row.tenant_id: row.organization_id for row in (await session.execute(statement)).scalars()}


async def criteria_by_program(
    session: AsyncSession, program_ids: Iterable[int]
) -> dict[int, list[CriterionKind]]:
    """Each program's criteria in a stable order ([] = open to all partners)."""
    ids = sorted(set(program_ids))
    statement = select(ProgramCriterion).where(ProgramCriterion.program_id.in_(ids))
    found: dict[int, list[CriterionKind]] = defaultdict(list)
    for row in (await session.execute(statement)).scalars():
        found[row.program_id].append(row.kind)
    order = list(CriterionKind)
    return {program_id: sorted(found.get(program_id, []), key=order.index) for program_id in ids}


async def agreements_by_organization(
    session: AsyncSession, organization_ids: Iterable[int]
) -> dict[int, list[Agreement]]:
    ids = sorted(set(organization_ids))
    statement = (
        select(Agreement)
        .where(Agreement.organization_id.in_(ids))
        .order_by(Agreement.organization_id, Agreement.kind)
    )
    found: dict[int, list[Agreement]] = defaultdict(list)
    for row in (await session.execute(statement)).scalars():
        found[row.organization_id].append(row)
    return {organization_id: found.get(organization_id, []) for organization_id in ids}


async def current_tax_profiles(
    session: AsyncSession, location_ids: Iterable[int]
) -> dict[int, TaxProfile | None]:
    """Each location's newest tax profile (profiles are never deleted); None for those without."""
    ids = sorted(set(location_ids))
    newest = (
        select(func.max(TaxProfile.id))
        .where(TaxProfile.location_id.in_(ids))
        .group_by(TaxProfile.location_id)
    )
    statement = select(TaxProfile).where(TaxProfile.id.in_(newest.scalar_subquery()))
    found = {row.location_id: row for row in (await session.execute(statement)).scalars()}
    return {location_id: found.get(location_id) for location_id in ids}


async def standings(session: AsyncSession, of: Iterable[Location]) -> dict[int, Standing]:
    """What eligibility depends on, per location: its type, its organization's agreements and
    designation (one statement for all of them)."""
    locations = {location.id: location for location in of}
    organization_ids = {location.organization_id for location in locations.values()}
    statement = (
        select(Organization, Agreement)
        .outerjoin(Agreement, (Agreement.organization_id == Organization.id) & Agreement.active.is_(True))
        .where(Organization.id.in_(sorted(organization_ids)))
    )
    designated: dict[int, bool] = {}
    agreements: dict[int, set[AgreementKind]] = defaultdict(set)
    for organization, agreement in await session.execute(statement):
        designated[organization.id] = organization.solutions_partner_designated
        if agreement is not None:
            agreements[organization.id].add(agreement.kind)
    return {
        location.id: Standing(
            partner_type=location.partner_type,
            active_agreements=frozenset(agreements[location.organization_id]),
            designated=designated.get(location.organization_id, False),
        )
        for location in locations.values()
    }
