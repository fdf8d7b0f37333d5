"""Whether a location meets a program's criteria: each criterion met (a program without any is
open to all partners)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from domain.vocabulary import AgreementKind, CriterionKind, PartnerType


@dataclass(frozen=True)
class CriterionResult:
    kind: CriterionKind
    met: bool


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    criteria: tuple[CriterionResult, ...]


@dataclass(frozen=True)
class Standing:
    """What eligibility depends on: the organization's agreements and designation, the location's type."""

    partner_type: PartnerType
    active_agreements: frozenset[AgreementKind]
    designated: bool


def criterion_met(kind: CriterionKind, standing: Standing) -> bool:
    agreements = standing.active_agreements
    if kind is CriterionKind.PARTNER_PROGRAM_AGREEMENT:
        return AgreementKind.PARTNER_PROGRAM in agreements
    if kind is CriterionKind.DISTRIBUTOR_AGREEMENT:
        required = standing.partner_type is PartnerType.INDIRECT_PROVIDER
        return not required or AgreementKind.DISTRIBUTOR in agreements
    if kind is CriterionKind.RESELLER_AGREEMENT:
        required = standing.partner_type is PartnerType.DIRECT_RESELLER
        return not required or AgreementKind.RESELLER in agreements
    return standing.designated


def evaluate(criteria: Iterable[CriterionKind], standing: Standing) -> Eligibility:
    """Each criterion with whether it is met; a program without criteria is open to all."""
    results = tuple(CriterionResult(kind, criterion_met(kind, standing)) for kind in criteria)
    return Eligibility(all(result.met for result in results), results)


def is_eligible(criteria: Collection[CriterionKind], standing: Standing) -> bool:
    return all(criterion_met(kind, standing) for kind in criteria)
