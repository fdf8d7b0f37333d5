"""The printed tables and the results file.

Per (backend, operation, server, connections): req/s is the mean over the rounds (each round's
figure is kept beside it), p50 and p99 are over the latencies of all rounds together, errors are
summed, peak RSS is the server's over its turns (all its operations), "others' CPU" the most that
other processes took during one of the runs (in cores); ratios divide incentives' req/s by the
floor's, PostGraphile's and (with `--before`) those of the other checkout of incentives.
"""

from __future__ import annotations

import json
import platform
import sqlite3
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.api.load import Measured, percentile
from bench.api.verify import Statements


@dataclass
class Row:
    backend: str
    operation: str
    server: str
    connections: int
    rounds: list[Measured] = field(default_factory=list)
    statements: Statements | None = None
    peak_rss: int = 0

    @property
    def requests_per_second(self) -> float:
        return sum(m.requests_per_second for m in self.rounds) / len(self.rounds) if self.rounds else 0.0

    def latency_ms(self, fraction: float) -> float:
        pooled = sorted(latency for m in self.rounds for latency in m.latencies)
        return percentile(pooled, fraction) * 1000

    @property
    def errors(self) -> int:
        return sum(m.errors for m in self.rounds)

    @property
    def others_cpu(self) -> float:
        """The most CPU (in cores) other processes took during one of this row's runs."""
        return max((m.others_cpu for m in self.rounds), default=0.0)

    def summary(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "operation": self.operation,
            "server": self.server,
            "connections": self.connections,
            "requests_per_second": self.requests_per_second,
            "p50_ms": self.latency_ms(0.5),
            "p99_ms": self.latency_ms(0.99),
            "errors": self.errors,
            "statements": self.statements.summary() if self.statements else None,
            "peak_rss_bytes": self.peak_rss,
            "rounds": [m.summary() for m in self.rounds],
        }


def _statements(row: Row) -> str:
    s = row.statements
    if s is None:
        return "?"
    if s.method != "wire":
        return f"{s.per_request:g} ({s.method})"
    control = s.per_request - s.reading
    return f"{s.per_request:g}" + (f" ({s.reading:g} data + {control:g} control)" if control else "")


def table(rows: Sequence[Row]) -> str:
    lines = [
        "| backend | operation | server | conns | req/s | req/s by round | p50 ms | p99 ms | errors "
        "| SQL/request | peak RSS MB | others' CPU |",
        "|---|---|---|---:|---:|---|---:|---:|---:|---|---:|---:|",
    ]
    for r in rows:
        by_round = " / ".join(f"{m.requests_per_second:,.1f}" for m in r.rounds)
        lines.append(
            f"| {r.backend} | {r.operation} | {r.server} | {r.connections} | {r.requests_per_second:,.1f} | "
            f"{by_round} | {r.latency_ms(0.5):,.1f} | {r.latency_ms(0.99):,.1f} | {r.errors} | "
            f"{_statements(r)} | {r.peak_rss / 2**20:,.0f} | {r.others_cpu:.2f} |"
        )
    return "\n".join(lines)


def ratios(rows: Sequence[Row]) -> list[dict[str, Any]]:
    """incentives' req/s over the floor's and PostGraphile's, per backend, operation, connections."""
    found = []
    for ours in (r for r in rows if r.server == "incentives"):
        others = {
            r.server: r.requests_per_second
            for r in rows
            if (r.backend, r.operation, r.connections) == (ours.backend, ours.operation, ours.connections)
        }
        entry: dict[str, Any] = {
            "backend": ours.backend,
            "operation": ours.operation,
            "connections": ours.connections,
        }
        for other in ("floor", "postgraphile", "incentives before"):
            if others.get(other):
                entry[f"ours/{other}"] = ours.requests_per_second / others[other]
        if len(entry) > 3:
            found.append(entry)
    return found


def observability_ratios(rows: Sequence[Row]) -> list[dict[str, Any]]:
    """Each observed incentives' req/s over plain incentives' (everything off), same backend,
    operation and connections (`--observability`)."""
    plain = {
        (r.backend, r.operation, r.connections): r.requests_per_second
        for r in rows
        if r.server == "incentives"
    }
    found = []
    for row in rows:
        off = plain.get((row.backend, row.operation, row.connections))
        if row.server.startswith("incentives metrics") and off:
            found.append(
                {
                    "backend": row.backend,
                    "operation": row.operation,
                    "connections": row.connections,
                    "server": row.server,
                    "observed/off": row.requests_per_second / off,
                }
            )
    return found


def observability_table(entries: Sequence[dict[str, Any]]) -> str:
    """The cost of looking: req/s with metrics (and traces) on over everything off."""
    lines = ["| backend | operation | conns | with | req/s on/off |", "|---|---|---:|---|---:|"]
    for e in entries:
        where = f"{e['backend']} | {e['operation']} | {e['connections']}"
        lines.append(f"| {where} | {e['server']} | {e['observed/off']:.4f} |")
    return "\n".join(lines)


def ratio_table(entries: Sequence[dict[str, Any]]) -> str:
    keys = ["ours/floor", "ours/postgraphile"]
    heads = ["ours/floor", "ours/PostGraphile"]
    if any("ours/incentives before" in e for e in entries):
        keys.append("ours/incentives before")
        heads.append("ours/before")
    lines = [f"| backend | operation | conns | {' | '.join(heads)} |", "|---|---|---:|" + "---:|" * len(keys)]
    for e in entries:
        cells = [f"{e[k]:.4f}" if k in e else "n/a" for k in keys]
        lines.append(f"| {e['backend']} | {e['operation']} | {e['connections']} | {' | '.join(cells)} |")
    return "\n".join(lines)


def workers_speedup(rows: Sequence[Row]) -> float | None:
    """incentives' dashboard req/s with two workers over one, at the same connections."""
    two = [r for r in rows if r.server == "incentives x2"]
    if not two:
        return None
    one = [
        r
        for r in rows
        if r.server == "incentives"
        and (r.backend, r.operation, r.connections) == (two[0].backend, two[0].operation, two[0].connections)
    ]
    if not one or not one[0].requests_per_second:
        return None
    return two[0].requests_per_second / one[0].requests_per_second


def _version(argv: list[str]) -> str:
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return "?"
    return (
        (result.stdout or result.stderr).strip().splitlines()[0] if (result.stdout or result.stderr) else "?"
    )


def machine(postgres_version: str) -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "cpu": cpu,
        "cores": len(
            [line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("processor")]
        ),
        "memory_gb": round(memory_kb / 2**20, 1),
        "python": platform.python_version(),
        "postgres": postgres_version,
        "sqlite": sqlite3.sqlite_version,
        "node": _version(["node", "--version"]),
        "wrk": _version(["wrk", "--version"]),
    }


def write(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
