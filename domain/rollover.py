"""What the roll-forward makes of an ENROLLED enrollment in the next fiscal year."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, case, literal, not_, or_

from domain.model import Enrollment
from domain.vocabulary import EnrollmentStatus


def still_eligible(*, meets_criteria: bool, partner_agreement: bool, open_to_all: bool) -> bool:
    """Whether an ENROLLED enrollment is carried as eligible: it meets the program's criteria and
    the organization's PARTNER_PROGRAM agreement is active (rule 14), which a program open to all
    partners does not ask for (rule 25: open programs follow the year)."""
    return meets_criteria and (partner_agreement or open_to_all)


def still_eligible_sql(
    *,
    meets_criteria: ColumnElement[bool],
    partner_agreement: ColumnElement[bool],
    open_to_all: ColumnElement[bool],
) -> ColumnElement[bool]:
    """`still_eligible` as a SQL condition."""
    return and_(meets_criteria, or_(partner_agreement, open_to_all))


def next_year_status(*, eligible: bool, program_active: bool, tax_valid: bool) -> EnrollmentStatus:
    """`tax_valid`: the location's current tax profile is valid on July 1, the first day of N+1."""
    if not program_active:
        return EnrollmentStatus.INACTIVE
    if not eligible:
        return EnrollmentStatus.INELIGIBLE
    if not tax_valid:
        return EnrollmentStatus.ACTION_REQUIRED
    return EnrollmentStatus.ENROLLED


def next_year_status_sql(
    *, eligible: ColumnElement[bool], program_active: ColumnElement[bool], tax_valid: ColumnElement[bool]
) -> ColumnElement[EnrollmentStatus]:
    """`next_year_status` as a SQL CASE; `tax_valid` may be NULL (no tax profile): not valid."""
    status = Enrollment.status.type

    def value(of: EnrollmentStatus) -> ColumnElement[EnrollmentStatus]:
        return literal(of, status)

    return case(
        (not_(program_active), value(EnrollmentStatus.INACTIVE)),
        (not_(eligible), value(EnrollmentStatus.INELIGIBLE)),
        # Tested positively: NULL (no profile) must fall through to ACTION_REQUIRED.
        (tax_valid, value(EnrollmentStatus.ENROLLED)),
        else_=value(EnrollmentStatus.ACTION_REQUIRED),
    )
