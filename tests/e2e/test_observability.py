"""Seen from outside (docs/observability.md): a real Prometheus (Debian's `prometheus`) scrapes
`incentives serve --workers 2` on loopback ports and finds, summed over both workers, the requests
the test sent, a refusal, a refused token, the outbox's backlog; the JSON log has one line per
request with its ids, and nothing secret.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from domain.access import Role
from tests.e2e.harness import GraphQL, Running, running
from tests.e2e.test_exactly_once import Servers, serve_environment
from tests.support import personas
from tests.support.databases import migrate, run_async
from tests.support.entra import RunningEntra
from tests.support.ports import free_port
from tests.support.smtp import SmtpSink

pytestmark = pytest.mark.e2e

PROBES = 24
PROBE = "query Probe { viewer { displayName } }"
# Over the INCENTIVES_MAX_QUERY_COST the server is given below.
TOO_COMPLEX = """query Heavy { viewer { organization { locations(first: 100) {
  edges { node { id name } } } } } }"""
MAX_COST = 50
SUBSCRIBE = "subscription { enrollmentStatusChanged { id status } }"
BANK_ACCOUNT = "SE45 5000 0000 0583 9825 7466"
SCRAPE = """global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: incentives
    static_configs:
      - targets: ["127.0.0.1:{port}"]
"""


@dataclass
class Observed:
    api: str
    prometheus: str
    serve: Running
    servers: Servers


def _prometheus_binary() -> str:
    found = shutil.which("prometheus") or (
        "/usr/bin/prometheus" if Path("/usr/bin/prometheus").exists() else None
    )
    if found is None:
        pytest.skip("Debian's prometheus is not installed here (.ci/run installs it): nothing scrapes")
    return found


@contextmanager
def observing(tmp_path: Path, entra: RunningEntra, **settings: str) -> Iterator[Observed]:
    """`serve --workers 2` with metrics and JSON logs on (and `settings`), scraped by a Prometheus."""
    binary = _prometheus_binary()
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'observed.db'}"
    migrate(database_url)
    env = serve_environment(database_url, entra)
    metrics_port, api_port, prometheus_port = free_port(), free_port(), free_port()
    env.update(
        INCENTIVES_METRICS="true",
        INCENTIVES_METRICS_PORT=str(metrics_port),
        INCENTIVES_METRICS_INTERVAL="0.5",
        INCENTIVES_LOG_FORMAT="json",
        INCENTIVES_MAX_QUERY_COST=str(MAX_COST),
        INCENTIVES_INVITATION_JOB_INTERVAL="0",
        **settings,
    )
    config = tmp_path / "prometheus.yml"
    config.write_text(SCRAPE.replace("{port}", str(metrics_port)))
    with (
        running(
            "serve", "--port", str(api_port), "--workers", "2", env=env, log=tmp_path / "serve.log"
        ) as serve,
        _prometheus(binary, config, tmp_path / "tsdb", prometheus_port, tmp_path / "prometheus.log"),
    ):
        serve.wait_for(lambda: serve.output().count("Application startup complete") == 2, "two workers")
        url = f"http://127.0.0.1:{api_port}"
        serve.wait_until_healthy(url)
        yield Observed(url, f"http://127.0.0.1:{prometheus_port}", serve, Servers([url], database_url))


@pytest.fixture
def observed(tmp_path: Path, entra: RunningEntra) -> Iterator[Observed]:
    with observing(tmp_path, entra) as found:
        yield found


@contextmanager
def _prometheus(binary: str, config: Path, data: Path, port: int, log: Path) -> Iterator[None]:
    """Prometheus on a loopback port, scraping what `config` says, for the block."""
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={data}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _query(prometheus: str, promql: str) -> float | None:
    """The value of a one-sample PromQL query, or None while Prometheus has none."""
    try:
        answer = httpx.get(f"{prometheus}/api/v1/query", params={"query": promql}, timeout=5).json()
    except httpx.TransportError:
        return None
    found = answer.get("data", {}).get("result", [])
    return float(found[0]["value"][1]) if found else None


def _until(prometheus: str, promql: str, wanted: float, seconds: float = 60) -> float | None:
    """Query until the value is `wanted` (scrapes come each second); the last value seen."""
    deadline = time.monotonic() + seconds
    value = None
    while time.monotonic() < deadline:
        value = _query(prometheus, promql)
        if value == wanted:
            return value
        time.sleep(0.5)
    return value


def _request_lines(log: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    return [line for line in lines if line["logger"] == "incentives.requests"]


def _arrange(servers: Servers, entra: RunningEntra) -> tuple[personas.Persona, str]:
    """An organization's Incentives admin, and two messages waiting in the outbox for an hour."""

    async def arrange() -> tuple[str, str]:
        async with servers.world() as world:
            org = await world.organization()
            admin = personas.new_guid()
            await world.assign(org, admin, Role.INCENTIVES_ADMIN)
            hour_ago = world.clock.now() - timedelta(hours=1)
            async with world.raw() as raw:
                await raw.outbox_message("<one@test>", queued_at=hour_ago)
                await raw.outbox_message("<two@test>", queued_at=hour_ago + timedelta(minutes=5))
            return org.tenant_id, admin

    tenant_id, admin = run_async(arrange)
    token = entra.mint(tenant_id=tenant_id, object_id=admin, name="Ida Admin")
    return personas.Persona(admin, token), tenant_id


def test_prometheus_scrapes_every_worker_and_finds_what_the_test_sent(
    observed: Observed, entra: RunningEntra
) -> None:
    admin, _ = _arrange(observed.servers, entra)
    for _ in range(PROBES):  # a new connection each: the kernel spreads them over both workers
        answer = httpx.post(
            f"{observed.api}/graphql",
            json={"query": PROBE},
            headers={"Authorization": f"Bearer {admin.token}"},
        )
        assert answer.status_code == 200, answer.text
    heavy = httpx.post(
        f"{observed.api}/graphql",
        json={"query": TOO_COMPLEX},
        headers={"Authorization": f"Bearer {admin.token}"},
    )
    refused = httpx.post(
        f"{observed.api}/graphql", json={"query": PROBE}, headers={"Authorization": "Bearer not-a-token"}
    )
    assert heavy.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX", heavy.text
    assert refused.status_code == 401

    prometheus = observed.prometheus
    probes = 'sum(incentives_graphql_requests_total{operation_name="Probe",outcome="ok"})'
    assert _until(prometheus, probes, PROBES) == PROBES, observed.serve.output()[-3000:]
    refusals = 'sum(incentives_graphql_refusals_total{code="QUERY_TOO_COMPLEX"})'
    assert _until(prometheus, refusals, 1) == 1
    assert _until(prometheus, 'sum(incentives_token_refusals_total{reason="malformed"})', 1) == 1
    assert _until(prometheus, "incentives_outbox_pending_messages", 2) == 2
    oldest = _query(prometheus, "incentives_outbox_oldest_pending_age_seconds")
    assert oldest is not None
    assert 3600 <= oldest < 3600 + 600
    assert _query(prometheus, "incentives_outbox_dead_messages") == 0
    durations = 'sum(incentives_graphql_request_duration_seconds_count{operation_name="Probe"})'
    assert _query(prometheus, durations) == PROBES
    assert _query(prometheus, 'sum(incentives_graphql_reads_total{path="planned"})') == PROBES
    statements = _query(
        prometheus, 'sum(incentives_graphql_request_sql_statements_sum{operation_type="query"})'
    )
    assert statements is not None
    assert statements >= PROBES
    fetches = _query(prometheus, 'sum(incentives_signing_key_fetches_total{result="ok"})')
    assert fetches is not None
    assert fetches >= 1
    assert _query(prometheus, "incentives_database_connections_in_use") is not None
    assert _query(prometheus, "sum(incentives_websocket_connections)") == 0
    # Both workers answered some of them: the sum above is over the two processes' files.
    lines = [line for line in _request_lines(observed.serve.output()) if line["operation_name"] == "Probe"]
    assert len(lines) == PROBES
    assert len({line["pid"] for line in lines}) == 2
    # Never on the API's own port.
    assert httpx.get(f"{observed.api}/metrics").status_code == 404


def test_the_json_log_has_a_line_per_request_with_its_ids_and_nothing_secret(
    observed: Observed, entra: RunningEntra
) -> None:
    admin, tenant_id = _arrange(observed.servers, entra)
    api = GraphQL(observed.api)
    try:
        api.mutate(
            admin.token,
            "createPaymentProfile",
            "paymentProfile { id }",
            name="Main account",
            currency="SEK",
            bankAccountNumber=BANK_ACCOUNT,
        )
    finally:
        api.close()
    answer = httpx.post(
        f"{observed.api}/graphql",
        json={"query": PROBE},
        headers={"Authorization": f"Bearer {admin.token}", "X-Request-Id": "probe-1"},
    )
    assert answer.headers["x-request-id"] == "probe-1"

    observed.serve.wait_for(
        lambda: any(line["request_id"] == "probe-1" for line in _request_lines(observed.serve.output())),
        "the probe's log line",
    )
    log = observed.serve.output()
    line = next(line for line in _request_lines(log) if line["request_id"] == "probe-1")
    assert {key: line[key] for key in ("operation_type", "operation_name", "status", "outcome")} == {
        "operation_type": "query",
        "operation_name": "Probe",
        "status": 200,
        "outcome": "ok",
    }
    assert (line["tenant_id"], line["caller_object_id"]) == (tenant_id, admin.object_id)
    assert line["duration_ms"] > 0
    assert line["cost"] >= 1
    mutation = next(line for line in _request_lines(log) if line["operation_type"] == "mutation")
    assert mutation["outcome"] == "ok"
    every = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert any(entry["logger"].startswith("uvicorn") for entry in every), "uvicorn's lines are JSON too"
    assert admin.token not in log
    assert admin.token[-20:] not in log
    assert "Bearer" not in log
    assert "0583 9825" not in log
    assert "SE45" not in log
    assert BANK_ACCOUNT.replace(" ", "") not in log


def test_deliveries_are_counted_by_result_and_the_outbox_empties(
    tmp_path: Path, entra: RunningEntra, smtp_server: SmtpSink
) -> None:
    smtp_server.refuse("nobody@contoso.example")
    mail = {"INCENTIVES_SMTP_HOST": smtp_server.host, "INCENTIVES_SMTP_PORT": str(smtp_server.port)}
    with observing(tmp_path, entra, **mail) as observed:

        async def queue() -> None:
            async with observed.servers.world() as world, world.raw() as raw:
                await raw.outbox_message("<sent@test>", to="admin@contoso.example")
                await raw.outbox_message("<refused@test>", to="nobody@contoso.example")

        run_async(queue)
        prometheus = observed.prometheus

        assert _until(prometheus, 'sum(incentives_outbox_deliveries_total{result="sent"})', 1) == 1
        assert _until(prometheus, 'sum(incentives_outbox_deliveries_total{result="refused"})', 1) == 1
        assert _until(prometheus, "incentives_outbox_pending_messages", 0) == 0
        assert _until(prometheus, "incentives_outbox_dead_messages", 1) == 1
        assert len(smtp_server.received) == 1


def test_a_workers_websockets_leave_the_gauges_when_it_dies_and_its_counts_stay(
    observed: Observed, entra: RunningEntra
) -> None:
    admin, _ = _arrange(observed.servers, entra)
    prometheus = observed.prometheus
    url = "ws" + observed.api.removeprefix("http") + "/graphql"
    with connect(url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        socket.send(json.dumps({"type": "connection_init", "payload": {"token": admin.token}}))
        assert json.loads(socket.recv(timeout=10))["type"] == "connection_ack"
        socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))

        assert _until(prometheus, "incentives_graphql_subscriptions_active", 1) == 1
        assert _query(prometheus, "incentives_websocket_connections") == 1
        httpx.post(f"{observed.api}/graphql", json={"query": PROBE}, headers={"Authorization": "Bearer nope"})
        assert _until(prometheus, "sum(incentives_token_refusals_total)", 1) == 1
        holder = _websocket_worker(observed.serve.output())
        os.kill(holder, signal.SIGKILL)

        # The supervisor marks it dead: its live gauges leave the sums, its counters stay.
        assert _until(prometheus, "incentives_websocket_connections", 0) == 0
        assert _query(prometheus, "incentives_graphql_subscriptions_active") == 0
        assert _query(prometheus, "sum(incentives_token_refusals_total)") == 1


def _websocket_worker(log: str) -> int:
    """The pid of the worker that accepted the websocket (uvicorn's line says so)."""
    for line in log.splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if "WebSocket /graphql" in entry["message"] and "accepted" in entry["message"]:
                return int(entry["pid"])
    pytest.fail(f"no worker accepted the websocket:\n{log[-3000:]}")
