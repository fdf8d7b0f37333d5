"""What an enrollment's status is shown as, to whom (rule 8), each rule beside its SQL twin.

    shown_status(ENROLLED, program_active=True, sees_detail=False, tax_profile_valid=False)
        -> ENROLLING: an ENROLLED one whose tax profile lapsed needs action, which only those who
           see the detail (INCENTIVES_ADMIN covering it, operators) are shown as ACTION_REQUIRED

Each `*_sql` function takes the same inputs as column expressions and gives the same answer in
SQL: the planned read builds JSON with it, the operators' list filters by it. One table-driven
test (tests/integration/test_shown_status_sql.py) evaluates both over every input combination,
on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    SQLColumnExpression,
    String,
    and_,
    case,
    false,
    func,
    literal,
    not_,
    or_,
    true,
)
from sqlalchemy import cast as sql_cast

from domain.fiscal import fiscal_year_of
from domain.vocabulary import EnrollmentStatus

S = EnrollmentStatus
# Seen as such only by those who see an enrollment's detail; everyone else sees ENROLLING.
IN_PROGRESS = frozenset({S.ACTION_REQUIRED, S.VALIDATING_ENROLLMENT})
Sql = SQLColumnExpression[Any]


def tax_profile_lapsed(status: S, fiscal_year: int, current_expires_on: date | None, *, today: date) -> bool:
    """ENROLLED in this or a later fiscal year while the location's current tax profile has expired.

    Past fiscal years are closed records, so an expiry after them changes nothing; a location
    with no tax profile at all (imported or seeded data) has nothing that expired.
    """
    return (
        status is S.ENROLLED
        and fiscal_year >= fiscal_year_of(today)
        and current_expires_on is not None
        and not today < current_expires_on
    )


def tax_profile_lapsed_sql(
    status: Sql, fiscal_year: Sql, current_expires_on: Sql, *, today: Sql, current_year: Sql
) -> ColumnElement[bool]:
    """`tax_profile_lapsed` in SQL; `current_year` is `fiscal_year_of(today)`, given as a value. The
    expiry is named once (it is often a subquery: `IS NOT NULL AND <=` ran it twice), and only
    after the status and year, so that it is looked up only for the enrollments they leave."""
    return and_(
        status == S.ENROLLED,
        fiscal_year >= current_year,
        func.coalesce(current_expires_on <= today, false()),
    )


def shown_status(stored: S, *, program_active: bool, sees_detail: bool, tax_profile_valid: bool = True) -> S:
    """DISCONTINUED over everything; ACTION_REQUIRED for an ENROLLED one whose tax profile lapsed;
    ENROLLING in place of an in-progress status for those who do not see the detail."""
    if not program_active:
        return S.DISCONTINUED
    status = stored
    if status is S.ENROLLED and not tax_profile_valid:
        status = S.ACTION_REQUIRED
    if status in IN_PROGRESS and not sees_detail:
        return S.ENROLLING
    return status


def shown_status_sql(
    stored: Sql, *, program_active: Sql, sees_detail: Sql, tax_profile_valid: Sql
) -> ColumnElement[str]:
    """`shown_status` in SQL, as the status's name (text)."""
    assert S.ACTION_REQUIRED in IN_PROGRESS  # a lapsed one is shown as in progress
    in_progress = or_(*(stored == status for status in sorted(IN_PROGRESS)))
    return case(
        (not_(program_active), _name(S.DISCONTINUED)),
        (
            and_(stored == S.ENROLLED, not_(tax_profile_valid)),
            case((sees_detail, _name(S.ACTION_REQUIRED)), else_=_name(S.ENROLLING)),
        ),
        (and_(in_progress, not_(sees_detail)), _name(S.ENROLLING)),
        else_=sql_cast(stored, String),
    )


def shown_as_sql(
    status: S, stored: Sql, *, program_active: Sql, sees_detail: Sql | bool, tax_profile_valid: Sql
) -> ColumnElement[bool]:
    """The rows `shown_status_sql` shows as `status`, narrowed first to the stored statuses that can
    be shown so (`can_show`), so that an index on the stored status still serves. `sees_detail` may
    be known in Python (an operator's list: True), which narrows further."""
    detail: Sql
    if isinstance(sees_detail, bool):
        stored_as, detail = can_show(status, sees_detail=sees_detail), true() if sees_detail else false()
    else:
        stored_as = can_show(status, sees_detail=True) | can_show(status, sees_detail=False)
        detail = sees_detail
    if not stored_as:
        return false()
    shown = shown_status_sql(
        stored, program_active=program_active, sees_detail=detail, tax_profile_valid=tax_profile_valid
    )
    narrowed = true() if stored_as == STORED else stored.in_(sorted(stored_as))
    return and_(narrowed, shown == status.value)


def missing_profiles_reason(tax_profile_valid: bool, payment_profile_id: int | None) -> str:
    missing = []
    if not tax_profile_valid:
        missing.append("a valid tax profile for the location")
    if payment_profile_id is None:
        missing.append("a payment profile")
    return "Needs " + " and ".join(missing) + "."


def shown_reason(
    stored: S, stored_reason: str | None, *, payment_profile_id: int | None, tax_profile_valid: bool
) -> str | None:
    """What to complete while the status shown is ACTION_REQUIRED (`shown_status`); else None."""
    if stored is S.ENROLLED and not tax_profile_valid:
        return missing_profiles_reason(False, payment_profile_id)
    return stored_reason if stored is S.ACTION_REQUIRED else None


# What an enrollment may be stored as; ENROLLING and DISCONTINUED are only ever shown.
STORED = frozenset(S) - {S.ENROLLING, S.DISCONTINUED}


def can_show(status: S, *, sees_detail: bool = True) -> frozenset[S]:
    """The stored statuses `shown_status` shows as `status` for some program and tax profile."""
    return frozenset(
        stored
        for stored in STORED
        for program_active in (True, False)
        for tax_valid in (True, False)
        if shown_status(
            stored, program_active=program_active, sees_detail=sees_detail, tax_profile_valid=tax_valid
        )
        is status
    )


def _name(status: S) -> ColumnElement[str]:
    return literal(status.value, String)
