"""How much CPU the rest of the machine took during a measured run, so that a run disturbed by
something else (a test suite, say) shows it: the machine's busy CPU time over the run (from
/proc/stat), less what the server under test (its process tree), PostgreSQL's processes, PgBouncer's (the
private one `--pgbouncer` starts, which polls its pool even between its own runs) and the benchmark
itself (wrk, its child, included) used, over the run's seconds.

    before = snapshot()
    ...                                                # the wrk run
    cores = others_share(before, snapshot(), server_pids, seconds)   # 0.35 = a third of one core

Other clients' PostgreSQL backends count as ours: the figure is a lower bound.
`least_disturbed` waits for a quiet machine before a run and repeats a disturbed one.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from bench.api.load import Measured

_TICKS = os.sysconf("SC_CLK_TCK")
# Processes of the database side, counted as the run's own: PostgreSQL's backends, PgBouncer.
_DATABASE = frozenset({"postgres", "pgbouncer"})


@dataclass(frozen=True)
class Snapshot:
    busy: float  # seconds the machine's CPUs were not idle, since boot
    processes: dict[int, tuple[str, float]]  # pid: (command name, CPU seconds)
    benchmark: float  # this process and the children it waited for (wrk)


def _busy() -> float:
    fields = [int(f) for f in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / _TICKS


def snapshot() -> Snapshot:
    processes: dict[int, tuple[str, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        processes[int(entry.name)] = (name, (int(fields[11]) + int(fields[12])) / _TICKS)
    times = os.times()
    own = times.user + times.system + times.children_user + times.children_system
    return Snapshot(_busy(), processes, own)


def others_share(before: Snapshot, after: Snapshot, server: Collection[int], seconds: float) -> float:
    """CPU the other processes used between the two snapshots, in cores (1.0 = one core busy)."""
    ours = after.benchmark - before.benchmark
    for pid, (name, total) in after.processes.items():
        if pid in server or name in _DATABASE:
            ours += total - before.processes.get(pid, (name, 0.0))[1]
    return max(0.0, after.busy - before.busy - ours) / seconds if seconds > 0 else 0.0


async def until_quiet(server: Callable[[], Collection[int]], threshold: float, patience: float) -> float:
    """Wait (up to `patience` seconds) for a 2-second window in which others use under `threshold`."""
    deadline = time.monotonic() + patience
    while True:
        before = snapshot()
        await asyncio.sleep(2)
        share = others_share(before, snapshot(), server(), 2)
        if share < threshold or time.monotonic() > deadline:
            return share


async def least_disturbed(
    run: Callable[[], Awaitable[Measured]],
    server: Callable[[], Collection[int]],
    threshold: float,
    attempts: int = 3,
    patience: float = 120,
) -> Measured:
    """`run()` once the machine is quiet; again (up to `attempts` in all) while others took more
    than `threshold` cores during it. The least disturbed attempt is kept, the others' shares noted."""
    tried: list[Measured] = []
    while len(tried) < attempts:
        await until_quiet(server, threshold, patience)
        before, started = snapshot(), time.monotonic()
        measured = await run()
        measured.others_cpu = others_share(before, snapshot(), server(), time.monotonic() - started)
        tried.append(measured)
        if measured.others_cpu <= threshold:
            break
        print(f"  disturbed: other processes used {measured.others_cpu:.2f} cores; again", file=sys.stderr)
    best = min(tried, key=lambda m: m.others_cpu)
    best.attempts = [m.others_cpu for m in tried]
    return best
