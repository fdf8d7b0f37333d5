"""Microsoft's fiscal year: FY N runs from July 1 of N-1 to June 30 of N."""

from __future__ import annotations

from datetime import date

from domain.errors import FiscalYearEnded, Invalid, UserInputError

# The fiscal years the service accepts from a client: a roll-forward, say, of year 0 or 10000 is a
# mistake (and year 10000 has no July 1 in Python's calendar).
FIRST_FISCAL_YEAR = 2000
LAST_FISCAL_YEAR = 2999


def fiscal_year_of(day: date) -> int:
    """The fiscal year a day falls in: `fiscal_year_of(date(2026, 11, 21)) == 2027`."""
    return day.year + 1 if day.month >= 7 else day.year


def fiscal_year_start(fiscal_year: int) -> date:
    return date(fiscal_year - 1, 7, 1)


def fiscal_year_end(fiscal_year: int) -> date:
    return date(fiscal_year, 6, 30)


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def checked_fiscal_year(fiscal_year: int, field: str) -> int:
    """`fiscal_year` if the service accepts it; else `UserInputError` (INVALID) at `field`."""
    if not FIRST_FISCAL_YEAR <= fiscal_year <= LAST_FISCAL_YEAR:
        raise UserInputError(
            f"The fiscal year must be between {FIRST_FISCAL_YEAR} and {LAST_FISCAL_YEAR}.", [field]
        )
    return fiscal_year


def require_fiscal_year_open(fiscal_year: int, today: date, field: str) -> None:
    """Rule 23: an enrollment expires with its fiscal year; from July 1 of N+1 nothing changes one of N.

    Raises `FiscalYearEnded` (FISCAL_YEAR_ENDED) at `field` when `fiscal_year` ended before `today`.
    """
    if fiscal_year < fiscal_year_of(today):
        raise FiscalYearEnded(
            f"fiscal year {fiscal_year} ended on {fiscal_year_end(fiscal_year).isoformat()}; "
            "its enrollments can no longer change",
            [field],
        )


def require_fiscal_year_ended(fiscal_year: int, today: date, field: str) -> None:
    """Rule 23: year N rolls forward only once N+1 has begun; `Invalid` (INVALID) at `field` before."""
    begins = fiscal_year_start(fiscal_year + 1)
    if today < begins:
        raise Invalid(
            f"fiscal year {fiscal_year} has not ended: it rolls forward from {begins.isoformat()}", [field]
        )
