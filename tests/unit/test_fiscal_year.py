from __future__ import annotations

from datetime import date

import pytest

from domain.fiscal import first_of_month, fiscal_year_end, fiscal_year_of, fiscal_year_start


@pytest.mark.parametrize(
    ("day", "fiscal_year"),
    [
        (date(2026, 6, 30), 2026),
        (date(2026, 7, 1), 2027),
        (date(2026, 11, 21), 2027),
        (date(2026, 12, 31), 2027),
        (date(2027, 1, 1), 2027),
        (date(2027, 6, 30), 2027),
        (date(2027, 7, 1), 2028),
    ],
)
def test_fiscal_year_turns_over_between_june_30_and_july_1(day: date, fiscal_year: int) -> None:
    assert fiscal_year_of(day) == fiscal_year


def test_fiscal_year_n_runs_from_july_1_of_n_minus_1_to_june_30_of_n() -> None:
    assert fiscal_year_start(2027) == date(2026, 7, 1)
    assert fiscal_year_end(2027) == date(2027, 6, 30)
    assert fiscal_year_of(fiscal_year_start(2027)) == 2027
    assert fiscal_year_of(fiscal_year_end(2027)) == 2027


def test_first_of_month_keeps_year_and_month() -> None:
    assert first_of_month(date(2026, 11, 21)) == date(2026, 11, 1)
