"""Microsoft's fiscal year: FY N runs from July 1 of N-1 to June 30 of N."""

from __future__ import annotations

from datetime import date


def fiscal_year_of(day: date) -> int:
    """The fiscal year a day falls in: `fiscal_year_of(date(2026, 11, 21)) == 2027`."""
    return day.year + 1 if day.month >= 7 else day.year


def fiscal_year_start(fiscal_year: int) -> date:
    return date(fiscal_year - 1, 7, 1)


def fiscal_year_end(fiscal_year: int) -> date:
    return date(fiscal_year, 6, 30)


def first_of_month(day: date) -> date:
    return day.replace(day=1)
