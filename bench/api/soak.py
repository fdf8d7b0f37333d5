"""The long run: incentives' dashboard with two workers at `--scaling-connections` for `--soak`
seconds, each worker's resident memory sampled every few seconds.

It reports the run's requests/s, latencies and errors (every error over the whole run counts), and per
worker: RSS once warm (the first sample after a minute, or after a fifth of the run if shorter), at
the end and at its peak (VmHWM). Memory is flat when no worker's RSS grew by more than
`FLAT_GROWTH` from warm to end.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.api.load import Measured, Plan, run_wrk
from bench.api.operations import Operation
from bench.api.servers import Running, memory, vm_hwm

SAMPLE_SECONDS = 5.0
FLAT_GROWTH = 0.10  # a tenth of the warm RSS


@dataclass
class Worker:
    pid: int
    samples: list[tuple[float, int]] = field(default_factory=list)  # (seconds into the run, RSS bytes)
    peak: int = 0

    def warm(self, seconds: float) -> int:
        after = min(60.0, seconds / 5)
        return next((rss for at, rss in self.samples if at >= after), self.samples[0][1])

    def summary(self, seconds: float) -> dict[str, Any]:
        warm, end = self.warm(seconds), self.samples[-1][1]
        return {
            "pid": self.pid,
            "warm_rss_bytes": warm,
            "end_rss_bytes": end,
            "peak_rss_bytes": self.peak,
            "growth": (end - warm) / warm if warm else 0.0,
            "samples": self.samples,
        }


def _is_resource_tracker(pid: int) -> bool:
    try:
        return b"resource_tracker" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


async def _sample(running: Running, workers: dict[int, Worker], started: float) -> None:
    while True:
        for pid in running.pids()[1:]:  # the supervisor's children: its workers
            if _is_resource_tracker(pid):  # multiprocessing's helper, not a worker
                continue
            worker = workers.setdefault(pid, Worker(pid))
            worker.samples.append((round(time.monotonic() - started, 1), memory(pid, "VmRSS")))
            worker.peak = max(worker.peak, vm_hwm(pid))
        await asyncio.sleep(SAMPLE_SECONDS)


async def soak(
    wrk: str,
    running: Running,
    operation: Operation,
    token: str,
    connections: int,
    seconds: float,
    script: Path,
) -> dict[str, Any]:
    """Load `running` (incentives with two workers) for `seconds`; the figures for the results file."""
    async with httpx.AsyncClient(timeout=30) as http:  # one request first: the workers are up
        response = await http.post(
            running.url, json=operation.ours[0], headers={"Authorization": f"Bearer {token}"}
        )
        response.raise_for_status()
    workers: dict[int, Worker] = {}
    started = time.monotonic()
    sampler = asyncio.create_task(_sample(running, workers, started))
    try:
        load = Plan(connections, warmup=0.0, measure=seconds, timeout=30.0)
        measured: Measured = await run_wrk(wrk, running.url, operation.ours, token, load, script)
    finally:
        sampler.cancel()
    summaries = [w.summary(seconds) for w in workers.values() if w.samples]
    return {
        "operation": operation.name,
        "connections": connections,
        "seconds": seconds,
        "requests_per_second": measured.requests_per_second,
        "requests": measured.samples,
        "p50_ms": measured.p50_ms,
        "p99_ms": measured.p99_ms,
        "errors": measured.errors,
        "socket_errors": measured.socket_errors,
        "workers": summaries,
        "replaced_workers": max(0, len(summaries) - 2),
        "memory_flat": all(s["growth"] <= FLAT_GROWTH for s in summaries),
    }


def soak_table(result: dict[str, Any]) -> str:
    lines = [
        f"Soak: incentives x2, {result['operation']} at {result['connections']} connections for "
        f"{result['seconds']:.0f} s: {result['requests']:,} requests, "
        f"{result['requests_per_second']:,.1f} req/s, p50 {result['p50_ms']:,.1f} ms, "
        f"p99 {result['p99_ms']:,.1f} ms, {result['errors']} errors; memory "
        + ("flat" if result["memory_flat"] else "NOT FLAT"),
        "",
        "| worker | RSS warm MB | RSS end MB | growth | peak RSS MB |",
        "|---|---:|---:|---:|---:|",
    ]
    for w in result["workers"]:
        lines.append(
            f"| {w['pid']} | {w['warm_rss_bytes'] / 2**20:,.1f} | {w['end_rss_bytes'] / 2**20:,.1f} | "
            f"{w['growth']:+.1%} | {w['peak_rss_bytes'] / 2**20:,.1f} |"
        )
    return "\n".join(lines)
