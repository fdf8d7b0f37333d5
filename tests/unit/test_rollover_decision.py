from __future__ import annotations

import itertools

import pytest

from domain.rollover import next_year_status, still_eligible
from domain.vocabulary import EnrollmentStatus as S


def test_eligible_active_and_tax_valid_stays_enrolled() -> None:
    assert next_year_status(eligible=True, program_active=True, tax_valid=True) is S.ENROLLED


def test_eligible_but_tax_expired_by_july_1_requires_action() -> None:
    assert next_year_status(eligible=True, program_active=True, tax_valid=False) is S.ACTION_REQUIRED


@pytest.mark.parametrize("tax_valid", [True, False])
def test_no_longer_eligible_is_ineligible(tax_valid: bool) -> None:
    assert next_year_status(eligible=False, program_active=True, tax_valid=tax_valid) is S.INELIGIBLE


@pytest.mark.parametrize(("eligible", "tax_valid"), list(itertools.product([True, False], repeat=2)))
def test_a_discontinued_program_makes_the_next_year_inactive(eligible: bool, tax_valid: bool) -> None:
    assert next_year_status(eligible=eligible, program_active=False, tax_valid=tax_valid) is S.INACTIVE


@pytest.mark.parametrize(("meets", "agreement"), list(itertools.product([True, False], repeat=2)))
def test_a_program_open_to_all_carries_whatever_the_agreements(meets: bool, agreement: bool) -> None:
    # Rule 25: an open program has no criteria, so it always "meets" them; no agreement is asked.
    assert still_eligible(meets_criteria=True, partner_agreement=agreement, open_to_all=True)
    assert still_eligible(meets_criteria=meets, partner_agreement=agreement, open_to_all=False) is (
        meets and agreement
    )
