"""Eligibility as a SQL condition, for the set-based batch jobs.

It mirrors `domain.eligibility.criterion_met` criterion by criterion; a test compares the two
over every combination of partner type, agreements, designation and criteria.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, SQLColumnExpression, and_, false, not_, or_, select, true

from domain.model import Agreement, Location, Organization, ProgramCriterion
from domain.vocabulary import AgreementKind, CriterionKind, PartnerType


def has_agreement(kind: AgreementKind) -> ColumnElement[bool]:
    """Whether the organization of the row's `Location` has an active agreement of `kind`."""
    # Correlated explicitly: it sits two levels deep in `meets_criteria_of`, and SQLAlchemy
    # auto-correlates only to the immediately enclosing SELECT.
    return (
        select(Agreement.kind)
        .where(
            Agreement.organization_id == Location.organization_id,
            Agreement.kind == kind,
            Agreement.active.is_(True),
        )
        .correlate_except(Agreement)
        .exists()
    )


def criterion_met(kind: CriterionKind) -> ColumnElement[bool]:
    """Whether the location (`Location`, joined with its `Organization`) meets one criterion."""
    if kind is CriterionKind.PARTNER_PROGRAM_AGREEMENT:
        return has_agreement(AgreementKind.PARTNER_PROGRAM)
    if kind is CriterionKind.DISTRIBUTOR_AGREEMENT:
        return or_(
            Location.partner_type != PartnerType.INDIRECT_PROVIDER,
            has_agreement(AgreementKind.DISTRIBUTOR),
        )
    if kind is CriterionKind.RESELLER_AGREEMENT:
        return or_(
            Location.partner_type != PartnerType.DIRECT_RESELLER, has_agreement(AgreementKind.RESELLER)
        )
    return Organization.solutions_partner_designated.is_(True)


def meets_criteria(criteria: frozenset[CriterionKind]) -> ColumnElement[bool]:
    """Eligibility for a program whose criteria are known (an open program: always true)."""
    if not criteria:
        return true()
    return and_(*(criterion_met(kind) for kind in sorted(criteria)))


def meets_criteria_of(program_id: SQLColumnExpression[int]) -> ColumnElement[bool]:
    """Eligibility for the program a row names: no criterion of it is unmet."""
    unmet = or_(
        false(), *(and_(ProgramCriterion.kind == kind, not_(criterion_met(kind))) for kind in CriterionKind)
    )
    criteria = (
        select(ProgramCriterion.kind)
        .where(ProgramCriterion.program_id == program_id, unmet)
        .correlate_except(ProgramCriterion)
    )
    return not_(criteria.exists())
