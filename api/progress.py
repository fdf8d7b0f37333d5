"""Progress of a long batch job on the terminal: rows done, rate and time left, at most once a second.

Lines appear on a terminal, and elsewhere (a log, a pipe) only for a long job: more rows than one
batch, or one running for 2 s or more; a script that runs a small job sees only its final counts.

meter = ProgressMeter(sys.stderr)
await roll_over_fiscal_year(..., progress=meter)   # "rollover: 20000/1000000 rows (2%), ..."
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

from domain.jobs import Progress

MIN_INTERVAL_SECONDS = 1.0
LONG_JOB_ROWS = 10_000  # one batch
LONG_JOB_SECONDS = 2.0


def describe(progress: Progress, elapsed: float) -> str:
    """One line: `invite: 20000/100000 rows (20%), 8000 rows/s, about 10 s left`."""
    rate = progress.done / elapsed if elapsed > 0 else 0.0
    left = progress.total - progress.done
    share = 100 * progress.done // progress.total if progress.total else 100
    eta = f"about {left / rate:.0f} s left" if rate > 0 and left > 0 else "finishing"
    return f"{progress.job}: {progress.done}/{progress.total} rows ({share}%), {rate:.0f} rows/s, {eta}"


class ProgressMeter:
    """A progress callback for the batch jobs that writes to `stream`, throttled."""

    def __init__(
        self,
        stream: TextIO,
        *,
        interval: float = MIN_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._interval = interval
        self._clock = clock
        self._started = clock()
        self._last: float | None = None
        self._terminal = stream.isatty()

    def __call__(self, progress: Progress) -> None:
        now = self._clock()
        finished = progress.done >= progress.total
        long_job = progress.total > LONG_JOB_ROWS or now - self._started >= LONG_JOB_SECONDS
        if not (self._terminal or long_job):
            return
        if self._last is not None and now - self._last < self._interval and not finished:
            return
        self._last = now
        print(describe(progress, now - self._started), file=self._stream, flush=True)
