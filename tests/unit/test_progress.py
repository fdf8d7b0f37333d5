from __future__ import annotations

import io

from api.progress import ProgressMeter, describe
from domain.jobs import Progress


def test_a_line_says_rows_done_rate_and_time_left() -> None:
    line = describe(Progress("rollover", done=20_000, total=100_000, created=19_000), elapsed=2.0)
    assert line == "rollover: 20000/100000 rows (20%), 10000 rows/s, about 8 s left"


def test_the_meter_prints_at_most_once_a_second_but_always_the_end() -> None:
    times = iter([0.0, 0.5, 0.9, 1.2, 1.3])
    stream = io.StringIO()
    meter = ProgressMeter(stream, clock=lambda: next(times), interactive=True)
    for done in (10, 20, 30, 40):
        meter(Progress("invite", done=done, total=40, created=done))
    lines = stream.getvalue().splitlines()
    assert [line.split(" rows")[0] for line in lines] == ["invite: 10/40", "invite: 40/40"]


def test_away_from_a_terminal_a_short_job_prints_no_progress() -> None:
    times = iter([0.0, 0.1, 0.2])
    stream = io.StringIO()
    meter = ProgressMeter(stream, clock=lambda: next(times))
    for done in (3, 5):
        meter(Progress("invite", done=done, total=5, created=done))
    assert stream.getvalue() == ""


def test_away_from_a_terminal_a_long_job_shows_progress_after_two_seconds() -> None:
    times = iter([0.0, 1.0, 2.5, 4.0])
    stream = io.StringIO()
    meter = ProgressMeter(stream, clock=lambda: next(times))
    for done in (10, 20, 40):
        meter(Progress("rollover", done=done, total=40, created=done))
    assert [line.split(" rows")[0] for line in stream.getvalue().splitlines()] == [
        "rollover: 20/40",
        "rollover: 40/40",
    ]
