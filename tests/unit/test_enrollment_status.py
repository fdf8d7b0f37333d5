from __future__ import annotations

from datetime import date

import pytest

from domain.model import Enrollment
from domain.vocabulary import EnrollmentStatus as S


def invited(payment_profile_id: int | None = None) -> Enrollment:
    return Enrollment(
        location_id=1, program_id=1, fiscal_year=2027, status=S.INVITED, payment_profile_id=payment_profile_id
    )


def test_submit_with_valid_tax_and_payment_profile_goes_to_validation() -> None:
    enrollment = invited()
    enrollment.submit(tax_profile_valid=True, payment_profile_id=7)
    assert enrollment.status is S.VALIDATING_ENROLLMENT
    assert enrollment.payment_profile_id == 7
    assert enrollment.action_required_reason is None


@pytest.mark.parametrize(
    ("tax_valid", "payment_profile_id", "reason"),
    [
        (False, 7, "Needs a valid tax profile for the location."),
        (True, None, "Needs a payment profile."),
        (False, None, "Needs a valid tax profile for the location and a payment profile."),
    ],
)
def test_submit_with_a_missing_profile_requires_action(
    tax_valid: bool, payment_profile_id: int | None, reason: str
) -> None:
    enrollment = invited()
    enrollment.submit(tax_profile_valid=tax_valid, payment_profile_id=payment_profile_id)
    assert enrollment.status is S.ACTION_REQUIRED
    assert enrollment.action_required_reason == reason


def test_submit_without_a_new_payment_profile_keeps_the_chosen_one() -> None:
    enrollment = invited(payment_profile_id=3)
    enrollment.submit(tax_profile_valid=True, payment_profile_id=None)
    assert enrollment.status is S.VALIDATING_ENROLLMENT
    assert enrollment.payment_profile_id == 3


def test_approved_review_enrolls_with_earnings_from_the_first_of_the_month() -> None:
    enrollment = invited()
    enrollment.status = S.VALIDATING_ENROLLMENT
    enrollment.review(approved=True, today=date(2026, 11, 21), reason=None)
    assert enrollment.status is S.ENROLLED
    assert enrollment.earnings_start_date == date(2026, 11, 1)


def test_a_second_approval_keeps_the_first_earnings_start() -> None:
    enrollment = invited()
    enrollment.status = S.VALIDATING_ENROLLMENT
    enrollment.review(approved=True, today=date(2026, 11, 21), reason=None)
    enrollment.status = S.VALIDATING_ENROLLMENT
    enrollment.review(approved=True, today=date(2027, 3, 2), reason=None)
    assert enrollment.earnings_start_date == date(2026, 11, 1)


def test_rejected_review_requires_action_with_the_reason() -> None:
    enrollment = invited()
    enrollment.status = S.VALIDATING_ENROLLMENT
    enrollment.review(approved=False, today=date(2026, 11, 21), reason="Bank details do not match.")
    assert enrollment.status is S.ACTION_REQUIRED
    assert enrollment.action_required_reason == "Bank details do not match."
    assert enrollment.earnings_start_date is None


@pytest.mark.parametrize("stored", [S.ACTION_REQUIRED, S.VALIDATING_ENROLLMENT])
def test_viewers_without_detail_see_enrolling_for_in_progress_enrollments(stored: S) -> None:
    enrollment = invited()
    enrollment.status = stored
    assert enrollment.shown_status(program_active=True, sees_detail=False) is S.ENROLLING
    assert enrollment.shown_status(program_active=True, sees_detail=True) is stored


@pytest.mark.parametrize("stored", [S.INVITED, S.ENROLLED, S.INELIGIBLE, S.INACTIVE])
def test_settled_statuses_look_the_same_to_every_viewer(stored: S) -> None:
    enrollment = invited()
    enrollment.status = stored
    assert enrollment.shown_status(program_active=True, sees_detail=False) is stored


@pytest.mark.parametrize("stored", [S.INVITED, S.ACTION_REQUIRED, S.VALIDATING_ENROLLMENT, S.ENROLLED])
@pytest.mark.parametrize("sees_detail", [True, False])
def test_a_discontinued_program_shows_every_enrollment_as_discontinued(stored: S, sees_detail: bool) -> None:
    enrollment = invited()
    enrollment.status = stored
    assert enrollment.shown_status(program_active=False, sees_detail=sees_detail) is S.DISCONTINUED
