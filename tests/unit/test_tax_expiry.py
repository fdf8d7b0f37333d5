"""Issue 4: an ENROLLED enrollment whose location's tax profile expired shows ACTION_REQUIRED."""

from __future__ import annotations

from datetime import date

import pytest

from domain.model import Enrollment, TaxProfile
from domain.vocabulary import EnrollmentStatus as S

TODAY = date(2026, 11, 21)  # fiscal year 2027


def enrollment(status: S = S.ENROLLED, fiscal_year: int = 2027) -> Enrollment:
    return Enrollment(location_id=1, program_id=1, fiscal_year=fiscal_year, status=status)


def tax_profile(expires_on: date) -> TaxProfile:
    return TaxProfile(location_id=1, tax_id="DE1", country="DE", expires_on=expires_on)


def test_an_incentives_admin_sees_action_required_for_an_enrolled_one_with_an_expired_tax_profile() -> None:
    shown = enrollment().shown_status(program_active=True, sees_detail=True, tax_profile_valid=False)
    assert shown is S.ACTION_REQUIRED


def test_anyone_else_sees_enrolling_for_it_as_for_any_action_required() -> None:
    shown = enrollment().shown_status(program_active=True, sees_detail=False, tax_profile_valid=False)
    assert shown is S.ENROLLING


def test_a_discontinued_program_still_shows_discontinued_whatever_the_tax_profile() -> None:
    shown = enrollment().shown_status(program_active=False, sees_detail=True, tax_profile_valid=False)
    assert shown is S.DISCONTINUED


@pytest.mark.parametrize("stored", [S.INVITED, S.VALIDATING_ENROLLMENT, S.INELIGIBLE, S.INACTIVE])
def test_only_enrolled_ones_are_affected_by_an_expired_tax_profile(stored: S) -> None:
    shown = enrollment(stored).shown_status(program_active=True, sees_detail=True, tax_profile_valid=False)
    assert shown is stored


def test_callers_that_do_not_say_keep_the_stored_status() -> None:
    assert enrollment().shown_status(program_active=True, sees_detail=False) is S.ENROLLED


@pytest.mark.parametrize(
    ("expires_on", "lapsed"),
    [(TODAY, True), (date(2026, 11, 20), True), (date(2026, 11, 22), False)],
    ids=["expires-today", "expired-yesterday", "expires-tomorrow"],
)
def test_a_tax_profile_has_lapsed_from_its_expiry_date_on(expires_on: date, lapsed: bool) -> None:
    assert enrollment().tax_profile_lapsed(tax_profile(expires_on), today=TODAY) is lapsed


def test_a_location_without_any_tax_profile_has_nothing_that_lapsed() -> None:
    assert enrollment().tax_profile_lapsed(None, today=TODAY) is False


def test_enrollments_of_past_fiscal_years_are_closed_and_never_lapse() -> None:
    expired = tax_profile(date(2026, 1, 1))
    assert enrollment(fiscal_year=2026).tax_profile_lapsed(expired, today=TODAY) is False
    assert enrollment(fiscal_year=2028).tax_profile_lapsed(expired, today=TODAY) is True


def test_only_enrolled_ones_lapse() -> None:
    expired = tax_profile(date(2026, 1, 1))
    assert enrollment(S.VALIDATING_ENROLLMENT).tax_profile_lapsed(expired, today=TODAY) is False
