"""Reading what eligibility and enrollment depend on: criteria, agreements, tax profiles."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.eligibility import Standing
from domain.model import Agreement, Location, Organization, ProgramCriterion, TaxProfile
from domain.vocabulary import AgreementKind, CriterionKind


async def program_criteria(session: AsyncSession, program_id: int) -> frozenset[CriterionKind]:
    statement = select(ProgramCriterion.kind).where(ProgramCriterion.program_id == program_id)
    return frozenset((await session.execute(statement)).scalars())


async def active_agreements(session: AsyncSession, organization_id: int) -> frozenset[AgreementKind]:
    statement = select(Agreement.kind).where(
        Agreement.organization_id == organization_id, Agreement.active.is_(True)
    )
    return frozenset((await session.execute(statement)).scalars())


async def all_active_agreements(session: AsyncSession) -> dict[int, frozenset[AgreementKind]]:
    """Every organization's active agreements, in one statement."""
    statement = select(Agreement.organization_id, Agreement.kind).where(Agreement.active.is_(True))
    found: dict[int, set[AgreementKind]] = defaultdict(set)
    for organization_id, kind in await session.execute(statement):
        found[organization_id].add(kind)
    return {organization_id: frozenset(kinds) for organization_id, kinds in found.items()}


async def all_program_criteria(session: AsyncSession) -> dict[int, frozenset[CriterionKind]]:
    found: dict[int, set[CriterionKind]] = defaultdict(set)
    for program_id, kind in await session.execute(select(ProgramCriterion.program_id, ProgramCriterion.kind)):
        found[program_id].add(kind)
    return {program_id: frozenset(kinds) for program_id, kinds in found.items()}


async def standing_of(session: AsyncSession, organization: Organization, location: Location) -> Standing:
    agreements = await active_agreements(session, organization.id)
    return Standing(location.partner_type, agreements, organization.solutions_partner_designated)


async def current_tax_profile(session: AsyncSession, location_id: int) -> TaxProfile | None:
    """The newest tax profile of the location (profiles are never deleted)."""
    statement = (
        select(TaxProfile)
        .where(TaxProfile.location_id == location_id)
        .order_by(TaxProfile.id.desc())
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()
