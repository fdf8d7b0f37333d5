"""How much CPU the rest of the machine took during a measured run, so that a run disturbed by
something else (a test suite, say) shows it: CPU seconds of every process that is not the server
under test (its process tree), wrk, PostgreSQL or the benchmark itself, over the run's seconds.

    before = cpu_by_process()
    ...                                   # the wrk run
    share = others_share(before, cpu_by_process(), mine, seconds)   # 0.35 = a third of one core
"""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path

OURS = frozenset({"wrk", "postgres"})
_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_by_process() -> dict[int, tuple[str, float]]:
    """`{pid: (command name, CPU seconds so far)}` for every process that can be read."""
    found: dict[int, tuple[str, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        # utime, stime, and the same of its children that it waited for (short-lived ones)
        found[int(entry.name)] = (name, sum(int(f) for f in fields[11:15]) / _TICKS)
    return found


def others_share(
    before: dict[int, tuple[str, float]],
    after: dict[int, tuple[str, float]],
    mine: Collection[int],
    seconds: float,
) -> float:
    """CPU the other processes used between the two snapshots, in cores (1.0 = one core busy)."""
    used = 0.0
    for pid, (name, total) in after.items():
        if pid in mine or name in OURS or pid == os.getpid():
            continue
        used += total - before.get(pid, (name, 0.0))[1]
    return used / seconds if seconds > 0 else 0.0
