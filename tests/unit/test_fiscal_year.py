from __future__ import annotations

from datetime import date

import pytest

from domain.errors import FiscalYearEnded, Invalid
from domain.fiscal import (
    first_of_month,
    fiscal_year_end,
    fiscal_year_of,
    fiscal_year_start,
    require_fiscal_year_ended,
    require_fiscal_year_open,
)


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


# Rule 23: June 30 is the last day an enrollment of its fiscal year changes; July 1 the first the year rolls.


@pytest.mark.parametrize("today", [date(2026, 7, 1), date(2027, 6, 30)])
def test_a_fiscal_year_is_open_from_its_july_1_to_its_june_30(today: date) -> None:
    require_fiscal_year_open(2027, today, "enrollmentId")
    require_fiscal_year_open(2028, today, "enrollmentId")  # next year's, invited early


def test_from_july_1_the_year_before_is_ended_for_good() -> None:
    with pytest.raises(FiscalYearEnded) as ended:
        require_fiscal_year_open(2027, date(2027, 7, 1), "enrollmentId")
    assert (ended.value.code, ended.value.problems[0].field) == ("FISCAL_YEAR_ENDED", ("enrollmentId",))
    assert "2027-06-30" in str(ended.value)


@pytest.mark.parametrize("today", [date(2026, 11, 21), date(2027, 6, 30)])
def test_a_year_does_not_roll_forward_before_the_next_begins(today: date) -> None:
    with pytest.raises(Invalid) as early:
        require_fiscal_year_ended(2027, today, "fromFiscalYear")
    assert (early.value.code, early.value.problems[0].field) == ("INVALID", ("fromFiscalYear",))


@pytest.mark.parametrize("today", [date(2027, 7, 1), date(2030, 1, 1)])
def test_a_year_rolls_forward_from_the_first_day_of_the_next(today: date) -> None:
    require_fiscal_year_ended(2027, today, "fromFiscalYear")
