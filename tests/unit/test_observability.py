"""Metrics labels stay bounded and each request's JSON log line carries its fields (api.metrics,
api.observe, api.logs); the real Prometheus over real workers is tests/e2e/test_observability.py."""

from __future__ import annotations

import json
import logging

import pytest

from api import logs
from api.metrics import Metrics, OperationNames, outcome, token_refusal_reason
from api.observe import log_request
from api.observed import Seen
from auth.principal import Identity, Principal
from domain.jobs import Progress


def test_an_unnamed_operation_is_anonymous_and_names_past_the_bound_are_other() -> None:
    names = OperationNames(limit=2)

    labels = [names.label(name) for name in (None, "", "Dashboard", "Node", "Dashboard", "Third", "Fourth")]

    assert labels == ["anonymous", "anonymous", "Dashboard", "Node", "Dashboard", "other", "other"]
    assert names.label("Fifth", trusted=True) == "Fifth"


def test_a_long_operation_name_is_cut_and_counts_once() -> None:
    names = OperationNames(limit=1)

    assert [names.label("Q" * 500), names.label("Q" * 500)] == ["Q" * 100, "Q" * 100]


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        (None, 200, "ok"),
        ("FORBIDDEN", 200, "FORBIDDEN"),
        ("QUERY_TOO_COMPLEX", 400, "QUERY_TOO_COMPLEX"),
        (None, 401, "UNAUTHENTICATED"),
        (None, 429, "THROTTLED"),
        (None, 503, "UNAVAILABLE"),
        (None, 504, "TIMEOUT"),
        (None, 500, "INTERNAL"),
        (None, 418, "BAD_REQUEST"),
    ],
)
def test_the_outcome_is_ok_or_the_answers_code(code: str | None, status: int, expected: str) -> None:
    assert outcome(Seen(code=code), status) == expected


@pytest.mark.parametrize(
    ("reason", "label"),
    [
        ("token refused: ExpiredSignatureError: Signature has expired", "expired"),
        ("token refused: InvalidSignatureError: Signature verification failed", "signature"),
        ("token refused: InvalidAudienceError: Audience doesn't match", "audience"),
        ("Authorization is not 'Bearer <token>'", "header"),
        ("malformed token header: Not enough segments", "malformed"),
        ("user token lacks the required scope", "scope"),
        ("no signing keys for tenant 1234: GET failed", "signing_keys"),
        ("token refused: ImmatureSignatureError: The token is not yet valid (iat)", "not_yet_valid"),
        ("token refused: InvalidIssuerError: Invalid issuer", "issuer"),
        ("iss is not the authority's issuer for the token's tid", "issuer"),
        ("tid missing or not a GUID", "malformed"),
        ('token refused: MissingRequiredClaimError: Token is missing the "exp" claim', "malformed"),
        ("an ID token is not an access token", "other"),
    ],
)
def test_a_token_refusals_reason_becomes_one_of_a_few_labels(reason: str, label: str) -> None:
    assert token_refusal_reason(reason) == label


def test_a_request_is_counted_with_its_labels_and_a_refusal_by_its_code() -> None:
    metrics = Metrics()

    metrics.request(
        Seen(operation_type="query", operation_name="Dashboard", cost=12, statements=3), 200, 0.02
    )
    metrics.request(Seen(operation_type="query", code="QUERY_TOO_COMPLEX", cost=90_000), 400, 0.001)
    text = metrics.exposition().decode()

    assert (
        'incentives_graphql_requests_total{operation_name="Dashboard",operation_type="query",'
        'outcome="ok"} 1.0' in text
    )
    assert (
        'incentives_graphql_requests_total{operation_name="anonymous",operation_type="query",'
        'outcome="QUERY_TOO_COMPLEX"} 1.0' in text
    )
    assert 'incentives_graphql_refusals_total{code="QUERY_TOO_COMPLEX"} 1.0' in text
    assert 'incentives_graphql_request_sql_statements_sum{operation_type="query"} 3.0' in text
    assert 'incentives_graphql_reads_total{path="fallback"} 1.0' in text


class Caught(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_the_request_line_carries_its_ids_caller_status_duration_and_cost() -> None:
    handler = Caught()
    requests = logging.getLogger("incentives.requests")
    requests.addHandler(handler)
    requests.setLevel(logging.INFO)
    principal = Principal(identity=Identity(tenant_id="tenant-1", object_id="caller-1"))
    state = {"principal": principal, "request_id": "request-1"}
    scope = {"method": "POST", "path": "/graphql", "state": state}
    try:
        seen = Seen(operation_type="mutation", operation_name="Enroll", cost=10, statements=4)
        log_request(scope, seen, 200, 0.0125)
    finally:
        requests.removeHandler(handler)

    line = json.loads(logs.JsonLines().format(handler.records[0]))

    assert {key: line[key] for key in line if key not in ("at", "pid")} == {
        "level": "INFO",
        "logger": "incentives.requests",
        "message": "POST /graphql Enroll 200 in 12.5 ms",
        "request_id": "request-1",
        "operation_type": "mutation",
        "operation_name": "Enroll",
        "tenant_id": "tenant-1",
        "caller_object_id": "caller-1",
        "status": 200,
        "outcome": "ok",
        "duration_ms": 12.5,
        "cost": 10,
        "sql_statements": 4,
        "planned": False,
    }


def test_a_json_line_carries_the_current_spans_trace_and_span_ids() -> None:
    sdk = pytest.importorskip("opentelemetry.sdk.trace", reason="the traces (opentelemetry-sdk) are not here")
    tracer = sdk.TracerProvider().get_tracer("test")
    record = logging.LogRecord("incentives.api", logging.INFO, __file__, 1, "inside", None, None)

    with tracer.start_as_current_span("request") as span:
        line = json.loads(logs.JsonLines().format(record))
        context = span.get_span_context()

    assert (line["trace_id"], line["span_id"]) == (f"{context.trace_id:032x}", f"{context.span_id:016x}")


def test_a_text_line_is_readable_and_names_the_request() -> None:
    record = logging.LogRecord("incentives.api", logging.WARNING, __file__, 1, "slow: %d ms", (900,), None)
    token = logs.request_id.set("request-2")
    try:
        line = logs.TextLines().format(record)
    finally:
        logs.request_id.reset(token)

    assert line.endswith(" WARNING incentives.api [request-2] slow: 900 ms")


def test_a_batch_jobs_round_is_running_while_it_runs_and_counts_the_rows_it_reports() -> None:
    metrics = Metrics()

    with metrics.job("rollover") as progress:
        running = metrics.exposition().decode()
        progress(Progress("rollover", done=10_000, total=25_000, created=9_000))
        progress(Progress("rollover", done=25_000, total=25_000, created=22_000))
    after = metrics.exposition().decode()

    assert 'incentives_batch_jobs_running{job="rollover"} 1.0' in running
    assert 'incentives_batch_jobs_running{job="rollover"} 0.0' in after
    assert 'incentives_batch_job_rows_total{job="rollover"} 25000.0' in after
