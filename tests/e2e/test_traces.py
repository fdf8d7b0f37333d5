"""Traces from a real `incentives serve` on PostgreSQL, exported over OTLP/HTTP to a receiver in the
test (tests/support/otlp.py): one request's server span continues the caller's `traceparent`,
its SQL statements (SQLAlchemy's and the planned read's, sent to asyncpg directly) and its calls to
Entra are its children, the database sees each statement's `traceparent` comment, and the request
id the log lines carry names the span."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.e2e.harness import Running, environment, incentives, running
from tests.e2e.test_exactly_once import serve_environment
from tests.support import personas
from tests.support.entra import API_CLIENT_ID, OPERATOR_TENANT_ID, RunningEntra
from tests.support.otlp import OtlpReceiver, ReceivedSpan
from tests.support.ports import free_port
from tests.support.world import world_on

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

SERVER, CLIENT = 2, 3  # opentelemetry.proto.trace.v1.Span.SpanKind
ATTRIBUTES = (
    "graphql.operation.type",
    "graphql.operation.name",
    "graphql.document.hash",
    "http.request.method",
    "http.response.status_code",
    "incentives.request_id",
)
LOCATIONS = "query Locations { viewer { organization { locations(first: 5) { edges { node { name } } } } } }"


@dataclass
class Traced:
    url: str
    process: Running
    receiver: OtlpReceiver
    database_url: str


@pytest.fixture
def traced(tmp_path: Path, entra: RunningEntra, postgres_url: str) -> Iterator[Traced]:
    env = serve_environment(postgres_url, entra)
    # The outbox sender runs (nothing is queued, so nothing is sent to this port).
    env |= {"INCENTIVES_SMTP_HOST": "127.0.0.1", "INCENTIVES_SMTP_PORT": str(free_port())}
    port = free_port()
    with OtlpReceiver() as receiver:
        env |= {
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_SERVICE_NAME": "incentives-under-test",
            "OTEL_TRACES_SAMPLER": "parentbased_always_on",
            "OTEL_BSP_SCHEDULE_DELAY": "50",
            "INCENTIVES_LOG_FORMAT": "json",  # its lines carry the trace and span ids
            "INCENTIVES_TRACE_SQL_COMMENTS": "true",  # off unless asked for
        }
        with running("serve", "--port", str(port), env=env, log=tmp_path / "serve.log") as process:
            url = f"http://127.0.0.1:{port}"
            process.wait_until_healthy(url)
            yield Traced(url, process, receiver, postgres_url)


def new_traceparent() -> tuple[str, str, str]:
    """A sampled W3C traceparent, as a browser's instrumentation sends: (header, trace id, parent id)."""
    trace_id, parent_id = secrets.token_hex(16), secrets.token_hex(8)
    return f"00-{trace_id}-{parent_id}-01", trace_id, parent_id


def of_trace(spans: list[ReceivedSpan], trace_id: str) -> list[ReceivedSpan]:
    return [span for span in spans if span.trace_id == trace_id]


def ask(traced: Traced, token: str, traceparent: str, request_id: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "traceparent": traceparent, "X-Request-Id": request_id}
    return httpx.post(
        f"{traced.url}/graphql", json={"query": LOCATIONS, "operationName": "Locations"}, headers=headers
    )


def request_tree(traced: Traced, trace_id: str) -> tuple[ReceivedSpan, list[ReceivedSpan]]:
    """The request's server span, once it and its SQL spans arrived, and all the trace's spans."""

    def complete(spans: list[ReceivedSpan]) -> bool:
        mine = of_trace(spans, trace_id)
        return any(span.kind == SERVER for span in mine) and any(
            "db.query.text" in s.attributes for s in mine
        )

    spans = of_trace(traced.receiver.wait_for(complete, what=f"server and SQL spans of {trace_id}"), trace_id)
    (server,) = [span for span in spans if span.kind == SERVER]
    return server, spans


async def statements_seen_by_postgres(database_url: str, trace_id: str) -> list[str]:
    """The last statement of each of the database's connections (pg_stat_activity keeps it while the
    connection is idle) that carries `trace_id` in its comment."""
    url = make_url(database_url).set(drivername="postgresql")
    connection = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        rows = await connection.fetch(
            "SELECT query FROM pg_stat_activity WHERE datname = $1 AND query LIKE $2",
            url.database,
            f"%traceparent='00-{trace_id}-%",
        )
    finally:
        await connection.close()
    return [row["query"] for row in rows]


def server_log_lines(traced: Traced) -> list[dict[str, object]]:
    lines = []
    for line in traced.process.output().splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


async def test_one_request_is_a_server_span_with_its_sql_and_its_calls_out_as_children(
    traced: Traced, entra: RunningEntra
) -> None:
    async with world_on(traced.database_url) as world:
        org = await world.organization()
        await world.location(org, "Stockholm")
    tenant = personas.Tenant(org.tenant_id)
    token = personas.global_admin(entra, tenant, object_id=org.global_admin.object_id).token
    document_hash = "sha256:" + hashlib.sha256(LOCATIONS.encode()).hexdigest()

    # The first time through Strawberry's view (the sign-in reads, Entra's keys, the planned read
    # through SQLAlchemy); the second through the planned read's lane, its SQL sent to asyncpg directly.
    for request_id in ("traces-first", "traces-second"):
        header, trace_id, parent_id = new_traceparent()
        response = ask(traced, token, header, request_id)
        assert response.status_code == 200, response.text
        edges = response.json()["data"]["viewer"]["organization"]["locations"]["edges"]
        assert [edge["node"]["name"] for edge in edges] == ["Stockholm"]

        server, spans = request_tree(traced, trace_id)
        assert server.parent_span_id == parent_id  # the caller's trace, continued
        assert response.headers["traceparent"] == f"00-{trace_id}-{server.span_id}-01"
        assert server.service == "incentives-under-test"
        assert server.name == "query"  # the conventions': the operation's type
        assert {key: server.attributes.get(key) for key in ATTRIBUTES} == {
            "graphql.operation.type": "query",
            "graphql.operation.name": "Locations",
            "graphql.document.hash": document_hash,
            "http.request.method": "POST",
            "http.response.status_code": 200,
            "incentives.request_id": request_id,
        }
        statements = [span for span in spans if "db.query.text" in span.attributes]
        assert statements
        assert all(span.parent_span_id == server.span_id for span in statements)
        assert all(
            span.kind == CLIENT and span.attributes["db.system.name"] == "postgresql" for span in statements
        )
        if request_id == "traces-first":  # the tenant's signing keys, fetched for its first token
            calls = [span for span in spans if span.attributes.get("http.request.method") == "GET"]
            assert {span.parent_span_id for span in calls} == {server.span_id}
            assert any(
                span.attributes["url.full"].endswith("/.well-known/openid-configuration") for span in calls
            )

    # What PostgreSQL saw: the last statement of the lane's connection carries its span's traceparent.
    seen = await statements_seen_by_postgres(traced.database_url, trace_id)
    ids = {span.span_id for span in statements}
    assert seen, f"no statement of trace {trace_id} in pg_stat_activity"
    assert all(query.endswith("-01'*/") and query.split("-")[-2] in ids for query in seen), seen

    # An unsampled request: no span exported, no comment in its SQL.
    header, unsampled, _ = new_traceparent()
    assert ask(traced, token, header[:-2] + "00", "traces-unsampled").status_code == 200
    assert await statements_seen_by_postgres(traced.database_url, unsampled) == []


def test_a_requests_log_line_and_its_trace_share_the_request_id(traced: Traced) -> None:
    header, trace_id, _ = new_traceparent()
    response = ask(traced, "not-a-token", header, "traces-refused")
    assert response.status_code == 401

    def server_span(spans: list[ReceivedSpan]) -> bool:
        return any(span.kind == SERVER for span in of_trace(spans, trace_id))

    (server,) = of_trace(traced.receiver.wait_for(server_span, what="the refused request's span"), trace_id)
    assert server.attributes["incentives.request_id"] == "traces-refused"
    assert server.attributes["http.response.status_code"] == 401
    logged = [line for line in server_log_lines(traced) if line.get("request_id") == "traces-refused"]
    assert any(str(line["message"]).startswith("token refused") for line in logged), logged
    # Every line of the request (the refusal's, and the line per request) names its trace and span.
    assert {(line.get("trace_id"), line.get("span_id")) for line in logged} == {(trace_id, server.span_id)}


def test_each_batch_of_the_outbox_sender_and_the_batch_jobs_is_a_trace_with_its_sql(traced: Traced) -> None:
    loops = {"outbox-delivery", "invitation-jobs", "roll-forward"}

    def rounds(spans: list[ReceivedSpan]) -> dict[str, ReceivedSpan]:
        with_sql = {span.parent_span_id for span in spans if "db.query.text" in span.attributes}
        return {span.name: span for span in spans if span.name in loops and span.span_id in with_sql}

    spans = traced.receiver.wait_for(lambda spans: rounds(spans).keys() == loops, what="a round of each loop")
    for name, batch in rounds(spans).items():
        assert batch.parent_span_id == "", f"{name} continues another trace"
        statements = [span for span in of_trace(spans, batch.trace_id) if "db.query.text" in span.attributes]
        assert statements
        assert {span.parent_span_id for span in statements} == {batch.span_id}


def test_serve_refuses_otel_settings_it_cannot_follow(postgres_url: str) -> None:
    env = environment(
        DATABASE_URL=postgres_url,
        AZURE_CLIENT_ID=API_CLIENT_ID,
        AZURE_TENANT_ID=OPERATOR_TENANT_ID,
        OTEL_TRACES_EXPORTER="zipkin",
    )
    refused = incentives("serve", "--port", str(free_port()), env=env)
    assert refused.returncode == 2
    assert "OTEL_TRACES_EXPORTER='zipkin'" in refused.stderr
