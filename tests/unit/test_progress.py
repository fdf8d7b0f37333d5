from __future__ import annotations

import io

from api.progress import ProgressMeter, describe
from domain.jobs import Progress


def test_a_line_says_rows_done_rate_and_time_left() -> None:
    line = describe(Progress("rollover", done=20_000, total=100_000, created=19_000), elapsed=2.0)
    assert line == "rollover: 20000/100000 rows (20%), 10000 rows/s, about 8 s left"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_meter_prints_at_most_once_a_second_but_always_the_end() -> None:
    times = iter([0.0, 0.5, 0.9, 1.2, 1.3])
    stream = _Terminal()
    meter = ProgressMeter(stream, clock=lambda: next(times))
    for done in (10, 20, 30, 40):
        meter(Progress("invite", done=done, total=40, created=done))
    lines = stream.getvalue().splitlines()
    assert [line.split(" rows")[0] for line in lines] == ["invite: 10/40", "invite: 40/40"]


def test_a_short_job_into_a_pipe_or_log_prints_nothing() -> None:
    times = iter([0.0, 0.1, 0.2, 1.9])
    stream = io.StringIO()
    meter = ProgressMeter(stream, clock=lambda: next(times))
    for done in (2, 4, 5):
        meter(Progress("invite", done=done, total=5, created=done))
    assert stream.getvalue() == ""


def test_a_long_job_into_a_pipe_or_log_prints_progress() -> None:
    by_rows, by_time = io.StringIO(), io.StringIO()
    rows = ProgressMeter(by_rows, clock=iter([0.0, 0.1]).__next__)
    rows(Progress("rollover", done=10_000, total=10_001, created=0))
    slow = ProgressMeter(by_time, clock=iter([0.0, 0.5, 2.0]).__next__)
    slow(Progress("invite", done=1, total=3, created=1))
    slow(Progress("invite", done=2, total=3, created=2))
    assert by_rows.getvalue().startswith("rollover: 10000/10001 rows")
    assert by_time.getvalue().splitlines() == [describe(Progress("invite", 2, 3, 2), elapsed=2.0)]
