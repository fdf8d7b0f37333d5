"""`python -m bench.api`: the options, the run, the printed tables and the results file.

python -m bench.api [--quick] [--rounds 2] [--duration 10] [--connections 16] [--keep] ...
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from bench.api.dataset import Scale
from bench.api.instructions import table as instruction_table
from bench.api.report import Row, observability_table, ratio_table, table, write
from bench.api.run import BENCH, Options, run
from bench.api.soak import soak_table

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/"
DESCRIPTION = "The side-by-side API benchmark: the floor, PostGraphile and incentives."
HOW_COUNTED = (
    "Statements per request: on PostgreSQL counted at the wire (a proxy between each server and the "
    "database reads its Query and Execute messages; incentives also in process, in the results file); "
    "on SQLite incentives' by a SQLAlchemy before_cursor_execute counter in process, the floor's by "
    "construction (one statement per operation)."
)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench.api",
        description=DESCRIPTION,
    )
    p.add_argument(
        "--quick", action="store_true", help="a short smoke run: 20 organizations, 1 round, 2 s runs"
    )
    p.add_argument("--organizations", type=int, default=500)
    p.add_argument("--locations-per-organization", type=int, default=50)
    p.add_argument("--enrollments-per-location", type=int, default=6)
    p.add_argument("--programs", type=int, default=24)
    p.add_argument("--organization", type=int, help="whose dashboard (default: the middle one)")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument(
        "--duration", type=float, default=10.0, help="seconds measured per run (longer for a slow server)"
    )
    p.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up before each measured window")
    p.add_argument(
        "--max-seconds", type=float, default=60.0, help="the most a warm-up or a window is lengthened to"
    )
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--scaling-connections", type=int, default=64)
    p.add_argument(
        "--max-others-cpu",
        type=float,
        default=0.15,
        help="cores other processes may use during a run before it is repeated (3 tries at most)",
    )
    p.add_argument(
        "--backend",
        choices=["postgres", "sqlite", "both"],
        default="both",
        help="postgres: the floor, PostGraphile and incentives; sqlite: the floor and incentives; "
        "each on the dashboard, node and programs",
    )
    p.add_argument(
        "--postgres-url", default=os.environ.get("INCENTIVES_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    )
    p.add_argument(
        "--soak",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="then load the dashboard with two workers for SECONDS, sampling each worker's memory",
    )
    p.add_argument(
        "--pgbouncer",
        action="store_true",
        help="also measure incentives through a private PgBouncer in transaction mode (Debian's "
        "pgbouncer), beside direct connections, on the same data",
    )
    p.add_argument(
        "--observability",
        action="store_true",
        help="also measure incentives' dashboard and node with metrics on (and, with opentelemetry-sdk "
        "installed, traces sampled at 10%% and 100%%) beside everything off, with the ratios",
    )
    p.add_argument(
        "--instructions",
        action="store_true",
        help="also count incentives' instructions per request of the dashboard and node under valgrind's "
        "callgrind (with --observability, of each observed server too): figures that a busy machine "
        "does not move",
    )
    p.add_argument("--keep", action="store_true", help="keep the PostgreSQL database and the SQLite file")
    p.add_argument(
        "--before",
        type=Path,
        help="another checkout of incentives (an earlier commit, its .venv made by its ./run) measured "
        "beside this one on every operation as 'incentives before', with ours/before in the ratios",
    )
    return p


def options_from(args: argparse.Namespace) -> Options:
    scale = Scale(
        args.organizations, args.locations_per_organization, args.enrollments_per_location, args.programs
    )
    options = Options(
        postgres_url=args.postgres_url,
        scale=scale,
        organization=args.organization or (scale.organizations + 1) // 2,
        rounds=args.rounds,
        duration=args.duration,
        warmup=args.warmup,
        max_seconds=args.max_seconds,
        connections=args.connections,
        scaling_connections=args.scaling_connections,
        max_others_cpu=args.max_others_cpu,
        backends=("postgres", "sqlite") if args.backend == "both" else (args.backend,),
        keep=args.keep,
        soak=args.soak,
        before=_checkout(args.before),
        pgbouncer=args.pgbouncer,
        observability=args.observability,
        instructions=args.instructions,
    )
    if args.quick:
        quick_scale = replace(scale, organizations=min(scale.organizations, 20))
        options = replace(
            options,
            scale=quick_scale,
            organization=min(options.organization, 10),
            rounds=1,
            duration=2.0,
            warmup=1.0,
            max_seconds=6.0,
        )
    if not 1 <= options.organization <= options.scale.organizations:
        raise SystemExit(f"--organization must be 1 to {options.scale.organizations}")
    return options


def _checkout(before: Path | None) -> Path | None:
    if before is None:
        return None
    before = before.resolve()
    if not (before / ".venv" / "bin" / "incentives").exists():
        raise SystemExit(f"--before {before}: no .venv/bin/incentives there (run its ./run once)")
    return before


def main(argv: Sequence[str] | None = None) -> None:
    options = options_from(parser().parse_args(argv))
    # Stopped with SIGTERM (or SIGINT), stop the servers and drop the database on the way out.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        result = asyncio.run(run(options))
    except KeyboardInterrupt:
        raise SystemExit("bench.api: interrupted; its servers are stopped, its database dropped") from None
    rows: list[Row] = result.pop("_rows")
    path = BENCH / "results" / f"{result['stamp']}.json"
    write(path, result)
    m = result["machine"]
    print(
        f"\n{m['cpu']} ({m['cores']} cores), PostgreSQL {m['postgres']}, SQLite {m['sqlite']}, "
        f"Python {m['python']}, node {m['node']}; {result['stamp']}\n"
    )
    print(table(rows))
    print()
    print(ratio_table(result["ratios"]))
    if result["observability"]:
        print("\n" + observability_table(result["observability"]))
    if result["instructions"]:
        print("\nInstructions per request, counted by callgrind (bench/api/instructions.py):\n")
        print(instruction_table(result["instructions"]))
    if result["workers_speedup"] is not None:
        print(
            f"\nincentives dashboard, 2 workers over 1 at {options.scaling_connections} connections: "
            f"{result['workers_speedup']:.2f}x"
        )
    if result["soak"] is not None:
        print("\n" + soak_table(result["soak"]))
    print(f"\n{HOW_COUNTED}\nResults: {path}")
