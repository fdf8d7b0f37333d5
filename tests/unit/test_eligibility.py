from __future__ import annotations

import pytest

from domain.eligibility import Standing, evaluate, is_eligible
from domain.vocabulary import AgreementKind, CriterionKind, PartnerType

C = CriterionKind
A = AgreementKind
P = PartnerType

# (criterion, partner type, what the organization holds) -> met
CASES = [
    (C.PARTNER_PROGRAM_AGREEMENT, p, held, met)
    for p in P
    for held, met in (({A.PARTNER_PROGRAM}, True), ({A.DISTRIBUTOR, A.RESELLER}, False), (set(), False))
] + [
    (C.DISTRIBUTOR_AGREEMENT, P.INDIRECT_PROVIDER, {A.DISTRIBUTOR}, True),
    (C.DISTRIBUTOR_AGREEMENT, P.INDIRECT_PROVIDER, {A.PARTNER_PROGRAM, A.RESELLER}, False),
    (C.DISTRIBUTOR_AGREEMENT, P.DIRECT_RESELLER, set(), True),
    (C.DISTRIBUTOR_AGREEMENT, P.INDIRECT_RESELLER, set(), True),
    (C.RESELLER_AGREEMENT, P.DIRECT_RESELLER, {A.RESELLER}, True),
    (C.RESELLER_AGREEMENT, P.DIRECT_RESELLER, {A.PARTNER_PROGRAM, A.DISTRIBUTOR}, False),
    (C.RESELLER_AGREEMENT, P.INDIRECT_PROVIDER, set(), True),
    (C.RESELLER_AGREEMENT, P.INDIRECT_RESELLER, set(), True),
]


@pytest.mark.parametrize(("criterion", "partner_type", "held", "met"), CASES)
def test_each_agreement_criterion_is_met_as_rule_6_says(
    criterion: CriterionKind, partner_type: PartnerType, held: set[AgreementKind], met: bool
) -> None:
    standing = Standing(partner_type, frozenset(held), designated=False)
    assert evaluate([criterion], standing).eligible is met


@pytest.mark.parametrize("partner_type", list(P))
@pytest.mark.parametrize("designated", [True, False])
def test_designation_criterion_follows_the_organization_for_every_partner_type(
    partner_type: PartnerType, designated: bool
) -> None:
    standing = Standing(partner_type, frozenset(A), designated=designated)
    assert is_eligible([C.SOLUTIONS_PARTNER_DESIGNATION], standing) is designated


@pytest.mark.parametrize("partner_type", list(P))
def test_a_program_without_criteria_is_open_to_every_partner_type(partner_type: PartnerType) -> None:
    standing = Standing(partner_type, frozenset(), designated=False)
    assert evaluate([], standing).eligible
    assert is_eligible([], standing)


def test_eligibility_reports_each_criterion_and_needs_all_of_them() -> None:
    standing = Standing(P.INDIRECT_PROVIDER, frozenset({A.PARTNER_PROGRAM}), designated=True)
    result = evaluate([C.PARTNER_PROGRAM_AGREEMENT, C.DISTRIBUTOR_AGREEMENT], standing)
    assert not result.eligible
    assert [(r.kind, r.met) for r in result.criteria] == [
        (C.PARTNER_PROGRAM_AGREEMENT, True),
        (C.DISTRIBUTOR_AGREEMENT, False),
    ]
