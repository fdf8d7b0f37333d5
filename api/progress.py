"""Progress of a long batch job on the terminal: rows done, rate and time left, at most once a second.

meter = ProgressMeter(sys.stderr)
await roll_over_fiscal_year(..., progress=meter)   # "rollover: 20000/1000000 rows (2%), ..."
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

from domain.jobs import Progress

QUIET_SECONDS = 2.0  # a job this short shows no progress, except on a terminal
MIN_INTERVAL_SECONDS = 1.0


def describe(progress: Progress, elapsed: float) -> str:
    """One line: `invite: 20000/100000 rows (20%), 8000 rows/s, about 10 s left`."""
    rate = progress.done / elapsed if elapsed > 0 else 0.0
    left = progress.total - progress.done
    share = 100 * progress.done // progress.total if progress.total else 100
    eta = f"about {left / rate:.0f} s left" if rate > 0 and left > 0 else "finishing"
    return f"{progress.job}: {progress.done}/{progress.total} rows ({share}%), {rate:.0f} rows/s, {eta}"


class ProgressMeter:
    """A progress callback for the batch jobs that writes to `stream`, throttled; to a terminal from
    the start, elsewhere (a log, a pipe) only once the job has run `quiet_for` seconds, so a short job
    prints nothing but its result."""

    def __init__(
        self,
        stream: TextIO,
        *,
        interval: float = MIN_INTERVAL_SECONDS,
        quiet_for: float = QUIET_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        interactive: bool | None = None,
    ) -> None:
        self._stream = stream
        self._interval = interval
        self._quiet_for = 0.0 if (stream.isatty() if interactive is None else interactive) else quiet_for
        self._clock = clock
        self._started = clock()
        self._last: float | None = None

    def __call__(self, progress: Progress) -> None:
        now = self._clock()
        finished = progress.done >= progress.total
        if now - self._started < self._quiet_for:
            return
        if self._last is not None and now - self._last < self._interval and not finished:
            return
        self._last = now
        print(describe(progress, now - self._started), file=self._stream, flush=True)
