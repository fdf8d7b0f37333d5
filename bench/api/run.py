"""The API benchmark, start to end: seed, verify and count, then measure in interleaved rounds.

For each backend (PostgreSQL: the floor, PostGraphile and incentives; SQLite: the floor and
incentives) and each operation (the dashboard, `node(id:)` and `programs`): every server is started
alone and checked to answer every request the load will send with the same data as the floor (else
the run stops), and its statements per request are counted. Then, round after round (every other
round in reverse order), each server is started alone, probed, loaded with wrk for each operation,
and stopped. On PostgreSQL the rounds also load incentives' dashboard at `--scaling-connections`
with one worker and with two.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, ExitStack, asynccontextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from bench.api import instructions
from bench.api.dataset import (
    Scale,
    libpq_url,
    postgres_database,
    schema_head,
    seed,
    sqlite_database,
    stamped_copy,
    viewer_of,
)
from bench.api.inprocess import incentives_counted
from bench.api.instructions import REQUESTS as INSTRUCTION_REQUESTS
from bench.api.instructions import Counted, ensure_valgrind
from bench.api.instructions import ratios as instruction_ratios
from bench.api.load import Measured, plan, run_wrk
from bench.api.operations import Operation, operations, trusted_environment
from bench.api.others import least_disturbed
from bench.api.otlp_sink import otlp_sink
from bench.api.report import Row, machine, observability_ratios, ratios, workers_speedup
from bench.api.servers import (
    FLOOR,
    INCENTIVES,
    POSTGRAPHILE_SERVER,
    Running,
    Server,
    Tools,
    ensure_postgraphile,
    ensure_wrk,
    free_port,
    start,
)
from bench.api.signin import SignIn, signed_in
from bench.api.soak import soak
from bench.api.verify import Answers, Statements, answers, count, probe, same
from bench.api.wire import CountingProxy
from bench.pgbouncer import private_pgbouncer, through

BENCH = Path(__file__).resolve().parent.parent
INCENTIVES_X2 = Server("incentives x2", "incentives", workers=2)
BEFORE = "incentives before"  # the checkout given by --before
PGBOUNCER = "incentives pgbouncer"  # --pgbouncer: the same build through PgBouncer
PGBOUNCER_POOL = 20  # PgBouncer's server connections: as many as one serve process's own pool
BY_CONSTRUCTION = Statements(1, 1, "by construction", {})
# --observability: what is measured with metrics on and traces sampled, beside everything off.
OBSERVED_OPERATIONS = ("dashboard", "node")
METRICS_ON = "incentives metrics"
TRACED = "incentives metrics+traces {percent}%"
WITH_COMMENTS = ", SQL comments"


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # its parent package is not installed either
        return False


def _counted_as(server: str) -> str:
    """Whose statement counts a row shows: two workers' and the observed servers' are incentives'."""
    return "incentives" if server.startswith(("incentives x2", METRICS_ON)) else server


def observed() -> list[Server]:
    """incentives with metrics on; and, once OpenTelemetry's SDK is installed, with traces sampled
    at 10% and at 100% as well (the standard OTEL_* settings: parent-based trace-id ratio)."""
    metrics = (("INCENTIVES_METRICS", "true"), ("INCENTIVES_METRICS_PORT", str(free_port())))
    servers = [Server(METRICS_ON, "incentives", settings=metrics)]
    if not _installed("opentelemetry.sdk"):
        log("--observability: opentelemetry-sdk is not installed: metrics only, no traces")
        return servers
    for ratio in ("0.1", "1.0"):
        traces = (
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", ratio),
            # Exported over OTLP/HTTP, as in production (without an endpoint nothing is traced).
            ("OTEL_EXPORTER_OTLP_ENDPOINT", otlp_sink()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        )
        name = TRACED.format(percent=round(float(ratio) * 100))
        servers.append(Server(name, "incentives", settings=metrics + traces))
        if ratio == "0.1":  # what the SQL comments cost (off unless asked for): the same with them
            commented = (("INCENTIVES_TRACE_SQL_COMMENTS", "true"),)
            servers.append(Server(name + WITH_COMMENTS, "incentives", settings=metrics + traces + commented))
    return servers


@dataclass(frozen=True)
class Options:
    postgres_url: str
    scale: Scale
    organization: int
    rounds: int
    duration: float
    warmup: float
    max_seconds: float
    connections: int
    scaling_connections: int
    max_others_cpu: float
    backends: tuple[str, ...]
    keep: bool
    soak: float = 0.0  # seconds of the long run (two workers, PostgreSQL); 0: none
    before: Path | None = None  # another checkout of incentives, measured beside this one
    pgbouncer: bool = False  # also incentives through a private PgBouncer in transaction mode
    observability: bool = False  # also incentives with metrics on, and traces sampled (`observed`)
    instructions: bool = False  # also instructions per request under callgrind (bench.api.instructions)


@dataclass(frozen=True)
class Turn:
    """One server's time alone in a round: which operations, at how many connections."""

    server: Server
    operations: tuple[str, ...]
    connections: int


@dataclass
class Backend:
    name: str
    url: str
    servers: list[Server]
    operations: list[Operation]
    turns: list[Turn]
    reference: Answers | None = None


@dataclass(frozen=True)
class Context:
    options: Options
    tools: Tools
    wrk: str
    signin: SignIn
    today: date
    logs: Path


def enrollment_ids(scale: Scale, organization: int) -> list[int]:
    """The organization's enrollments: what `node` cycles through."""
    per_location, locations = scale.enrollments_per_location, scale.locations_per_organization
    first = (organization - 1) * locations * per_location + 1
    return list(range(first, first + locations * per_location))


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def verify_and_count(ctx: Context, backend: Backend) -> dict[tuple[str, str], Statements]:
    """Check every server against the floor, and count statements per request (see README)."""
    counted: dict[tuple[str, str], Statements] = {}
    async with httpx.AsyncClient(timeout=120) as http, _counting(backend) as (url, executed):
        for server in backend.servers:
            running = await start(
                server, url, ctx.tools, ctx.logs / f"{backend.name}-{server.name}-verify.log"
            )
            try:
                found = await answers(
                    http, running.url, server.kind, backend.operations, ctx.signin.token, ctx.today
                )
                for operation in backend.operations:
                    if executed is None:  # SQLite: the floor's by construction, incentives' below
                        if server.kind == "floor":
                            counted[(server.name, operation.name)] = BY_CONSTRUCTION
                    elif server.pooled_url is not None:
                        continue  # through PgBouncer, past the counting proxy: not counted
                    elif server.kind != "incentives" or backend.name == "postgres":
                        counted[(server.name, operation.name)] = await count(
                            http, running.url, server.kind, operation, ctx.signin.token, executed, "wire"
                        )
            finally:
                await running.stop()
            if backend.reference is None:
                backend.reference = found
            same(backend.reference, found, backend.servers[0].name, server.name)
            log(f"{backend.name}: {server.name} answers every request as {backend.servers[0].name} does")
        async with incentives_counted(backend.url, ctx.signin) as (url_in_process, cursor_log):
            for operation in backend.operations:
                key = ("incentives (in process)", operation.name)
                counted[key] = await count(
                    http, url_in_process, "incentives", operation, ctx.signin.token, cursor_log, "sqlalchemy"
                )
                if backend.name == "sqlite":
                    counted[("incentives", operation.name)] = counted[key]
    return counted


@asynccontextmanager
async def _counting(backend: Backend) -> AsyncIterator[tuple[str, list[str] | None]]:
    """On PostgreSQL, the database URL through a counting wire proxy; on SQLite, no proxy."""
    if backend.name != "postgres":
        yield backend.url, None
        return
    url = make_url(backend.url)
    async with CountingProxy((url.host or "127.0.0.1", url.port or 5432)) as proxy:
        yield url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False), proxy.executed


async def measure(ctx: Context, backend: Backend, rows: dict[tuple[str, str, str, int], Row]) -> None:
    """Every turn alone, round after round (every other round in reverse), into `rows`."""
    for round_number in range(1, ctx.options.rounds + 1):
        turns = backend.turns if round_number % 2 else list(reversed(backend.turns))
        for turn in turns:
            log_path = ctx.logs / f"{backend.name}-{turn.server.name}-round{round_number}.log"
            running = await start(turn.server, backend.url, ctx.tools, log_path)
            keys = []
            try:
                for name in turn.operations:
                    label = (
                        f"{backend.name} round {round_number}: {turn.server.name} {name} x{turn.connections}"
                    )
                    measured = await _measure(ctx, backend, turn, running, name, label)
                    key = (backend.name, turn.server.name, name, turn.connections)
                    rows.setdefault(key, Row(backend.name, name, turn.server.name, turn.connections))
                    rows[key].rounds.append(measured)
                    keys.append(key)
                rss = running.peak_rss()
            finally:
                await running.stop()
            for key in keys:
                rows[key].peak_rss = max(rows[key].peak_rss, rss)


async def count_instructions(ctx: Context, backend: Backend) -> list[Counted]:
    """incentives and, with --observability, the observed servers, under callgrind: the instructions
    per request of the observed operations (bench.api.instructions)."""
    valgrind = ensure_valgrind()
    servers = [s for s in backend.servers if s.name == INCENTIVES.name or s.name.startswith(METRICS_ON)]
    by_name = {o.name: o for o in backend.operations}
    found = []
    with tempfile.TemporaryDirectory(prefix="incentives-bench-callgrind-") as scratch:
        for server in servers:
            for name in OBSERVED_OPERATIONS:
                log_path = ctx.logs / f"{backend.name}-{server.name}-instructions.log"
                log(f"{backend.name}: {server.name} {name} under callgrind ({INSTRUCTION_REQUESTS} requests)")
                counted = await instructions.count(
                    valgrind,
                    backend.name,
                    server,
                    backend.url,
                    ctx.tools,
                    by_name[name],
                    ctx.signin.token,
                    Path(scratch),
                    log_path,
                )
                log(f"  {counted.per_request:,.0f} instructions per request")
                found.append(counted)
    return found


async def soak_run(ctx: Context, backend: Backend) -> dict[str, Any]:
    """The long run of the dashboard with two workers (see bench.api.soak)."""
    options = ctx.options
    log(
        f"{backend.name}: soak, incentives x2 dashboard x{options.scaling_connections} "
        f"for {options.soak:.0f} s"
    )
    running = await start(INCENTIVES_X2, backend.url, ctx.tools, ctx.logs / f"{backend.name}-soak.log")
    try:
        dashboard = next(o for o in backend.operations if o.name == "dashboard")
        script = ctx.logs / f"{backend.name}-soak.lua"
        result = await soak(
            ctx.wrk, running, dashboard, ctx.signin.token, options.scaling_connections, options.soak, script
        )
    finally:
        await running.stop()
    log(
        f"  {result['requests_per_second']:,.1f} req/s, {result['errors']} errors, memory "
        + ("flat" if result["memory_flat"] else "NOT FLAT")
    )
    return result


async def _measure(
    ctx: Context, backend: Backend, turn: Turn, running: Running, name: str, label: str
) -> Measured:
    """Probe (checking the data again), plan the durations, and load with wrk on a quiet machine."""
    options, kind = ctx.options, turn.server.kind
    operation = next(o for o in backend.operations if o.name == name)
    assert backend.reference is not None
    async with httpx.AsyncClient(timeout=120) as http:
        expected = backend.reference[name]
        single = await probe(http, running.url, kind, operation, ctx.signin.token, ctx.today, expected)
    load = plan(
        turn.connections, single, turn.server.workers, options.duration, options.warmup, options.max_seconds
    )
    log(label + (f" ({load.note})" if load.note else ""))
    bodies = operation.postgraphile if kind == "postgraphile" else operation.ours
    script = ctx.logs / f"{backend.name}-{turn.server.name}-{name}.lua"
    run = partial(run_wrk, ctx.wrk, running.url, bodies, ctx.signin.token, load, script)
    measured = await least_disturbed(run, running.pids, options.max_others_cpu)
    disturbed = " (DISTURBED)" if measured.others_cpu > options.max_others_cpu else ""
    log(
        f"  {measured.requests_per_second:,.1f} req/s, p50 {measured.p50_ms:,.1f} ms, "
        f"p99 {measured.p99_ms:,.1f} ms, {measured.errors} errors; others used "
        f"{measured.others_cpu:.2f} cores{disturbed}"
    )
    return measured


def backends(
    options: Options,
    pg_url: str | None,
    sqlite_url: str | None,
    pooled_url: str | None = None,
    copies: dict[str, str] | None = None,
) -> list[Backend]:
    """`copies`: the database `--before`'s server reads on each backend (`stamped_copy`)."""
    # A checkout given by --before may predate documentId: then every server is asked by text only.
    by_id = options.before is None
    if not by_id:
        log("--before: the documents are sent by text only (the checkout before may not know documentId)")
    ops = operations(options.organization, enrollment_ids(options.scale, options.organization), by_id=by_id)
    all_ops = tuple(o.name for o in ops)
    pooled = [] if pooled_url is None else [Server(PGBOUNCER, "incentives", pooled_url=pooled_url)]
    found = []

    def before(backend: str) -> list[Server]:
        if options.before is None:
            return []
        own = (copies or {}).get(backend)
        return [Server(BEFORE, "incentives", project=options.before, database=own)]

    seen = observed() if options.observability else []
    looked_at = [Turn(s, OBSERVED_OPERATIONS, options.connections) for s in seen]
    if pg_url is not None:
        servers = [FLOOR, POSTGRAPHILE_SERVER, INCENTIVES, *pooled, *before("postgres")]
        turns = [Turn(s, all_ops, options.connections) for s in servers]
        turns += [Turn(s, ("dashboard",), options.scaling_connections) for s in (INCENTIVES, INCENTIVES_X2)]
        found.append(Backend("postgres", pg_url, [*servers, *seen], ops, turns + looked_at))
    if sqlite_url is not None:
        servers = [FLOOR, INCENTIVES, *before("sqlite")]
        turns = [Turn(s, all_ops, options.connections) for s in servers]
        found.append(Backend("sqlite", sqlite_url, [*servers, *seen], ops, turns + looked_at))
    return found


@asynccontextmanager
async def databases(
    options: Options, directory: Path
) -> AsyncIterator[tuple[str | None, str | None, dict[str, str]]]:
    """The seeded databases of the backends asked for: (PostgreSQL URL, SQLite URL), None if not,
    and with `--before`, each backend's copy for that checkout (`stamped_copy`)."""
    async with AsyncExitStack() as stack:
        pg = sqlite = None
        copies: dict[str, str] = {}
        head = None if options.before is None else schema_head(options.before)
        if "postgres" in options.backends:
            pg = await stack.enter_async_context(postgres_database(options.postgres_url, keep=options.keep))
            await _seed(pg, options.scale)
            if head is not None:
                copies["postgres"] = await stack.enter_async_context(
                    stamped_copy(pg, head, keep=options.keep)
                )
        if "sqlite" in options.backends:
            sqlite = await stack.enter_async_context(sqlite_database(directory))
            await _seed(sqlite, options.scale)
            if head is not None:
                copies["sqlite"] = await stack.enter_async_context(
                    stamped_copy(sqlite, head, keep=options.keep)
                )
        yield pg, sqlite, copies


async def _seed(url: str, scale: Scale) -> None:
    started = datetime.now(UTC)
    await seed(url, scale, datetime.now(UTC).date())
    seconds = (datetime.now(UTC) - started).total_seconds()
    where = make_url(url).render_as_string(hide_password=True)
    log(
        f"seeded {where}: {scale.organizations:,} organizations, {scale.locations:,} locations, "
        f"{scale.enrollments:,} enrollments in {seconds:.1f} s"
    )


def _commit(checkout: Path | None) -> str | None:
    """The commit checked out at `checkout`, for the results file."""
    if checkout is None:
        return None
    found = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], capture_output=True)
    return f"{checkout} at {found.stdout.decode().strip() or 'an unknown commit'}"


async def postgres_version(url: str) -> str:
    connection = await asyncpg.connect(libpq_url(url), timeout=10)
    try:
        return str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()


async def run(options: Options) -> dict[str, Any]:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H-%M-%SZ")
    logs = BENCH / ".logs" / stamp
    logs.mkdir(parents=True, exist_ok=True)
    wrk = ensure_wrk()
    cli = ensure_postgraphile(BENCH / ".postgraphile") if "postgres" in options.backends else None
    rows: dict[tuple[str, str, str, int], Row] = {}
    counted: dict[str, dict[str, Any]] = {}
    soaked: dict[str, Any] | None = None
    counted_instructions: list[Counted] = []
    keep_dir = BENCH / ".data" if options.keep else None
    with (
        tempfile.TemporaryDirectory(prefix="incentives-bench-api-") as scratch,
        signed_in(viewer_of(options.organization)) as signin,
        ExitStack() as stack,
    ):
        directory = keep_dir or Path(scratch)
        directory.mkdir(parents=True, exist_ok=True)
        tools = Tools(BENCH.parent, cli, {**signin.environment(), **trusted_environment(directory)})
        ctx = Context(options, tools, wrk, signin, datetime.now(UTC).date(), logs)
        async with databases(options, directory) as (pg_url, sqlite_url, copies):
            if pg_url and options.keep:
                log(f"keeping {pg_url}")
            pooled_url = None
            if pg_url is not None and options.pgbouncer:
                where = make_url(pg_url)
                bouncer = private_pgbouncer(
                    where.host or "127.0.0.1", where.port or 5432, pool_size=PGBOUNCER_POOL
                )
                pooled_url = through(pg_url, stack.enter_context(bouncer))
            for backend in backends(options, pg_url, sqlite_url, pooled_url, copies):
                statements = await verify_and_count(ctx, backend)
                counted[backend.name] = {f"{s} / {o}": v.summary() for (s, o), v in statements.items()}
                await measure(ctx, backend, rows)
                if options.instructions:
                    counted_instructions += await count_instructions(ctx, backend)
                if options.soak and backend.name == "postgres":
                    soaked = await soak_run(ctx, backend)
                for (_, server, operation, _), row in rows.items():
                    if row.backend == backend.name:
                        row.statements = statements.get((_counted_as(server), operation))
            pg_used = "postgres" in options.backends
            version = await postgres_version(options.postgres_url) if pg_used else "not used"
    ordered = list(rows.values())
    return {
        "stamp": stamp,
        "machine": machine(version),
        "options": {**asdict(options), "scale": asdict(options.scale), "before": _commit(options.before)},
        "rows": [r.summary() for r in ordered],
        "ratios": ratios(ordered),
        "observability": observability_ratios(ordered),
        "workers_speedup": workers_speedup(ordered),
        "instructions": instruction_ratios(counted_instructions) if options.instructions else None,
        "statements": counted,
        "soak": soaked,
        "_rows": ordered,
    }
