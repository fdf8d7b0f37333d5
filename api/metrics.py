"""Prometheus metrics (INCENTIVES_METRICS=true; docs/observability.md lists each and what it means).

Each process records into its own `Metrics`: into the multiprocess directory that `incentives
serve` made (`api.metrics_server`), whose `/metrics` sums every worker's. prometheus-client is
imported only when metrics are on, after the directory is set, since it picks its mode when first
imported.

Labels are bounded: an operation's name is its label only while this process has seen fewer than
MAX_OPERATION_NAMES names (a trusted document's always); unnamed operations are `anonymous`,
the names past the bound `other`; an outcome is `ok` or an error code.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.loops import Periodic
from api.observed import ANONYMOUS, Seen
from domain.clock import Clock
from domain.jobs import Progress
from domain.mail import outbox

GaugeMode = Literal["livesum", "livemostrecent"]
MAX_OPERATION_NAMES = 200
OTHER = "other"
OK = "ok"
# The refusals an operator watches for (CONTRACT 6.3): the rest are the callers' own mistakes.
REFUSALS = frozenset({"QUERY_TOO_COMPLEX", "THROTTLED", "TIMEOUT", "UNAVAILABLE"})
# An answer's HTTP status as its code, when no GraphQL error said one.
_STATUS_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    408: "REQUEST_TIMEOUT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "THROTTLED",
    503: "UNAVAILABLE",
    504: "TIMEOUT",
}
# Why a token was refused, from `Unauthenticated.reason` (free text, for logs) to a bounded label.
_TOKEN_REASONS = (
    ("signing keys", "signing_keys"),
    ("new and too many new tenants", "signing_keys"),
    ("kid not among", "signing_keys"),
    ("ExpiredSignature", "expired"),
    ("ImmatureSignature", "not_yet_valid"),
    ("Signature", "signature"),
    ("Authorization", "header"),
    ("token too large", "header"),
    ("Audience", "audience"),
    ("aud ", "audience"),
    ("Issuer", "issuer"),
    ("iss ", "issuer"),
    ("v2.0", "issuer"),
    ("scope", "scope"),
    ("client application", "client_app"),
    ("malformed", "malformed"),
    ("DecodeError", "malformed"),
    ("MissingRequiredClaim", "malformed"),
    ("claim ", "malformed"),
    ("GUID", "malformed"),
    ("alg ", "malformed"),
    ("kid ", "malformed"),
    ("header parameters", "malformed"),
)
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
COST_BUCKETS = (1, 10, 100, 1_000, 5_000, 10_000, 50_000, 100_000)
STATEMENT_BUCKETS = (0, 1, 2, 3, 5, 8, 13, 21, 50, 100)
WAIT_BUCKETS = (0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0)


def outcome(seen: Seen, status: int) -> str:
    """`ok`, or the answer's error code (its first GraphQL error's, else its HTTP status's)."""
    if seen.code is not None:
        return seen.code
    if status < 400:
        return OK
    return _STATUS_CODES.get(status, "INTERNAL" if status >= 500 else "BAD_REQUEST")


def token_refusal_reason(reason: str) -> str:
    """A bounded label for a token refusal's reason (`auth.errors.Unauthenticated.reason`)."""
    return next((label for part, label in _TOKEN_REASONS if part in reason), "other")


class OperationNames:
    """Operation names as labels, bounded: past `limit` distinct names, `other`."""

    def __init__(self, limit: int = MAX_OPERATION_NAMES) -> None:
        self._seen: set[str] = set()
        self._limit = limit
        self._lock = threading.Lock()

    def label(self, name: str | None, *, trusted: bool = False) -> str:
        if not name:
            return ANONYMOUS
        name = name[:100]
        if trusted or name in self._seen:
            return name
        with self._lock:
            if len(self._seen) >= self._limit:
                return OTHER
            self._seen.add(name)
        return name


class Metrics:
    """This process's metrics (into the multiprocess directory when `serve` made one)."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry()
        self.names = OperationNames()
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}
        operation = ("operation_type", "operation_name", "outcome")

        def counter(name: str, text: str, *labels: str) -> Counter:
            return Counter(name, text, labels, registry=self.registry)

        def gauge(name: str, text: str, *labels: str, mode: GaugeMode = "livesum") -> Gauge:
            # livesum: each live process's share; livemostrecent: what the database said last.
            return Gauge(name, text, labels, registry=self.registry, multiprocess_mode=mode)

        def histogram(name: str, text: str, labels: tuple[str, ...], buckets: tuple[float, ...]) -> Histogram:
            return Histogram(name, text, labels, buckets=buckets, registry=self.registry)

        self.requests = counter(
            "incentives_graphql_requests", "GraphQL requests over HTTP, by outcome.", *operation
        )
        self.duration = histogram(
            "incentives_graphql_request_duration_seconds",
            "Time to answer a GraphQL request over HTTP.",
            operation,
            DURATION_BUCKETS,
        )
        self.cost = histogram(
            "incentives_graphql_request_cost_points",
            "Cost points each operation asked for, refused ones included (see INCENTIVES_MAX_QUERY_COST).",
            ("operation_type",),
            COST_BUCKETS,
        )
        self.refusals = counter(
            "incentives_graphql_refusals",
            "Requests refused: QUERY_TOO_COMPLEX, THROTTLED, TIMEOUT or UNAVAILABLE.",
            "code",
        )
        self.statements = histogram(
            "incentives_graphql_request_sql_statements",
            "SQL statements one GraphQL request sent.",
            ("operation_type",),
            STATEMENT_BUCKETS,
        )
        self.reads = counter(
            "incentives_graphql_reads",
            "Queries answered by the planned read (planned) or by graphql-core (fallback).",
            "path",
        )
        self.connections_in_use = gauge(
            "incentives_database_connections_in_use",
            "Pooled database connections checked out (the planned reads' kept ones included).",
        )
        self.connection_wait = histogram(
            "incentives_database_connection_wait_seconds",
            "Time a checkout waited for a pooled connection.",
            (),
            WAIT_BUCKETS,
        )
        database: GaugeMode = "livemostrecent"
        self.outbox_pending = gauge(
            "incentives_outbox_pending_messages", "Mail messages waiting to be sent.", mode=database
        )
        self.outbox_oldest = gauge(
            "incentives_outbox_oldest_pending_age_seconds",
            "Age of the oldest message waiting to be sent (0 when none waits).",
            mode=database,
        )
        self.outbox_dead = gauge(
            "incentives_outbox_dead_messages",
            "Mail messages given up on (mailQueue lists them; retryMail sends them again).",
            mode=database,
        )
        self.deliveries = counter(
            "incentives_outbox_deliveries",
            "Attempts to send a message, by result: sent, refused (for good) or failed (retried).",
            "result",
        )
        self.job_rows = counter("incentives_batch_job_rows", "Rows a batch job has worked through.", "job")
        self.jobs_running = gauge("incentives_batch_jobs_running", "Batch job rounds running now.", "job")
        self.websockets = gauge("incentives_websocket_connections", "Open websocket connections.")
        self.subscriptions = gauge("incentives_graphql_subscriptions_active", "Subscriptions running now.")
        self.token_refusals = counter(
            "incentives_token_refusals", "Access tokens refused, by reason.", "reason"
        )
        self.key_fetches = counter(
            "incentives_signing_key_fetches",
            "Fetches of a tenant's signing keys from Entra ID, by result (ok or failed).",
            "result",
        )

    def request(self, seen: Seen, status: int, seconds: float) -> None:
        """Record one GraphQL request over HTTP."""
        kind = seen.operation_type or "unknown"
        labels = (kind, self.names.label(seen.operation_name), outcome(seen, status))
        self._child(self.requests, labels).inc()
        self._child(self.duration, labels).observe(seconds)
        if seen.operation_type:
            self._child(self.cost, (kind,)).observe(seen.cost)
        self._child(self.statements, (kind,)).observe(seen.statements)
        if labels[2] in REFUSALS:
            self._child(self.refusals, (labels[2],)).inc()
        if seen.operation_type == "query" and labels[2] == OK:
            self._child(self.reads, ("planned" if seen.planned else "fallback",)).inc()
        if seen.token_refusal is not None:
            self.token_refused(seen.token_refusal)

    def _child(self, metric: Any, labels: tuple[str, ...]) -> Any:
        """`metric.labels(*labels)`, looked up once per label set (bounded, as the labels are) and
        kept: prometheus-client's `labels` checks and locks on every call."""
        key = (id(metric), labels)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*labels)
        return found

    def token_refused(self, reason: str) -> None:
        self.token_refusals.labels(token_refusal_reason(reason)).inc()

    def key_fetched(self, ok: bool) -> None:
        self.key_fetches.labels("ok" if ok else "failed").inc()

    def delivered(self, result: str) -> None:
        self.deliveries.labels(result).inc()

    @contextmanager
    def job(self, name: str) -> Iterator[Callable[[Progress], None]]:
        """A batch job's round: running for the block; the callback counts the rows its progress reports."""
        done = 0

        def progress(report: Progress) -> None:
            nonlocal done
            self.job_rows.labels(name).inc(max(0, report.done - done))
            done = report.done

        running = self.jobs_running.labels(name)
        running.inc()
        try:
            yield progress
        finally:
            running.dec()

    async def read(
        self, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], clock: Clock
    ) -> None:
        """Read what the gauges show from the pool and the database (`readings_loop`)."""
        checkedout = getattr(engine.pool, "checkedout", None)
        if checkedout is not None:
            self.connections_in_use.set(checkedout())
        async with sessions() as session:
            found = await outbox.backlog(session)
        self.outbox_pending.set(found.pending)
        self.outbox_dead.set(found.dead)
        oldest = found.oldest_pending
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        self.outbox_oldest.set(0.0 if oldest is None else max(0.0, (clock.now() - oldest).total_seconds()))

    def exposition(self) -> bytes:
        """This process's metrics in the text format (tests, and a process serving without `serve`)."""
        from prometheus_client import generate_latest

        return generate_latest(self.registry)


def time_checkouts(engine: AsyncEngine, metrics: Metrics) -> Callable[[], None]:
    """Observe how long each checkout from `engine`'s pool waits (a new connection's connect
    included), until the returned function is called. SQLAlchemy's pool events come after the
    checkout only: its `_do_get`, where a checkout waits, is wrapped instead."""
    pool = engine.pool
    inner = getattr(pool, "_do_get", None)
    if inner is None:
        return lambda: None
    observe = metrics.connection_wait.observe

    def timed() -> Any:
        started = time.perf_counter()
        try:
            return inner()
        finally:
            observe(time.perf_counter() - started)

    pool._do_get = timed  # type: ignore[method-assign]

    def undo() -> None:
        del pool._do_get  # the class's own again

    return undo


def readings_loop(
    metrics: Metrics,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    interval: float,
) -> Periodic:
    """The gauges read from the pool and the database every `interval` seconds (not per request,
    nor per scrape: the scrape is served by the supervisor, which holds no connection)."""
    return Periodic(
        "metrics-readings",
        lambda: metrics.read(engine, sessions, clock),
        interval=interval,
        failure="reading the outbox for metrics failed",
    )
