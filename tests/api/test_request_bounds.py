"""Bounds on one HTTP request, tried over real sockets: the body's size and arrival time, malformed
bodies, the request deadline and a client that leaves (the database's work stopped with it)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest

from api.guard import MAX_BODY_BYTES
from tests.support import personas
from tests.support.configured_api import configured_api
from tests.support.databases import empty_postgres_database, run_async
from tests.support.entra import RunningEntra
from tests.support.live import live, opened
from tests.support.server import ApiServer

PROGRAMS = "{ programs(first: 5) { edges { node { code } } } }"


@pytest.fixture
def token(entra: RunningEntra) -> str:
    return personas.user(entra, personas.Tenant()).token


@pytest.fixture
def api(entra: RunningEntra, sqlite_url: str) -> Iterator[ApiServer]:
    with configured_api(sqlite_url, authority=entra.base_url, request_timeout=1.0) as server:
        yield server


def post(
    api: ApiServer, token: str, content: bytes, content_type: str = "application/json"
) -> httpx.Response:
    return api.http.post(
        "/graphql",
        content=content,
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
    )


def error_code(response: httpx.Response) -> str:
    body = response.json()
    return str(body["errors"][0]["extensions"]["code"])


def test_a_body_over_the_limit_is_refused_with_413(api: ApiServer, token: str) -> None:
    padding = " " * MAX_BODY_BYTES
    response = post(api, token, json.dumps({"query": "{ viewer { objectId } }" + padding}).encode())

    assert response.status_code == 413
    assert error_code(response) == "PAYLOAD_TOO_LARGE"
    assert response.headers["X-Request-Id"]


def test_a_body_at_the_limit_is_read(api: ApiServer, token: str) -> None:
    body = json.dumps({"query": "{ viewer { objectId } }"}).encode()
    body = body[:-1] + b" " * (MAX_BODY_BYTES - len(body)) + b"}"

    response = post(api, token, body)

    assert response.status_code == 200, response.text
    assert "errors" not in response.json()


def test_a_trickling_body_is_cut_off_at_the_deadline(api: ApiServer, token: str) -> None:
    address = urlsplit(api.url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as raw:
        raw.sendall(
            b"POST /graphql HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {token}\r\nContent-Length: 100\r\n\r\n".encode()
            + b'{"query":'
        )
        started = time.monotonic()
        answer = raw.recv(65536).decode()
        waited = time.monotonic() - started

    assert answer.startswith("HTTP/1.1 408"), answer
    assert '"REQUEST_TIMEOUT"' in answer
    assert waited < 5, "cut off at INCENTIVES_REQUEST_TIMEOUT (1 s here), not left open"


@pytest.mark.parametrize(
    "body",
    [b"42", b"null", b'"query"', b"[]", b"\xff\xfe{}", b"[" * 5000 + b"]" * 5000, b'{"query": '],
    ids=["number", "null", "string", "list", "invalid UTF-8", "nested 5,000 deep", "truncated"],
)
def test_a_malformed_json_body_is_a_400_with_a_json_error(api: ApiServer, token: str, body: bytes) -> None:
    response = post(api, token, body)

    assert response.status_code == 400, response.text
    assert error_code(response) == "BAD_REQUEST"


# --- the deadline and disconnects, with the database's work (PostgreSQL shows it) ---------------------


@pytest.fixture
def pg_api(entra: RunningEntra, postgres_url: str) -> Iterator[ApiServer]:
    run_async(lambda: empty_postgres_database(postgres_url))
    with configured_api(postgres_url, authority=entra.base_url, request_timeout=1.0) as server:
        yield server


def dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def _locked_then(
    url: str, act: Callable[[], object], check: Callable[[list[str]], None], *, within: float = 5.0
) -> None:
    """Hold an exclusive lock on `programs` while `act()` runs in a thread, then `check` the
    statements still waiting for it once none do, or after `within` seconds."""
    import asyncio

    holder = await asyncpg.connect(dsn(url))
    observer = await asyncpg.connect(dsn(url))
    try:
        transaction = holder.transaction()
        await transaction.start()
        await holder.execute("LOCK TABLE programs IN ACCESS EXCLUSIVE MODE")
        await asyncio.to_thread(act)
        waiting: list[str] = []
        for _ in range(int(within * 10)):
            rows = await observer.fetch(
                "SELECT query FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            waiting = [row["query"] for row in rows]
            if not waiting:
                break
            await asyncio.sleep(0.1)
        check(waiting)
        await transaction.rollback()
    finally:
        await holder.close()
        await observer.close()


@pytest.mark.postgres
def test_a_request_past_the_deadline_gets_504_and_its_statement_is_cancelled(
    pg_api: ApiServer, postgres_url: str, token: str
) -> None:
    answers: list[httpx.Response] = []

    def act() -> None:
        answers.append(post(pg_api, token, json.dumps({"query": PROGRAMS}).encode()))

    def nothing_waits(waiting: list[str]) -> None:
        assert waiting == [], "the request's statement still waits for the lock"

    run_async(lambda: _locked_then(postgres_url, act, nothing_waits))

    (response,) = answers
    assert response.status_code == 504
    assert error_code(response) == "TIMEOUT"
    assert response.headers["X-Request-Id"]
    assert post(pg_api, token, json.dumps({"query": PROGRAMS}).encode()).status_code == 200


@pytest.mark.postgres
def test_a_client_that_leaves_stops_its_request_and_statement(
    entra: RunningEntra, postgres_url: str, token: str
) -> None:
    run_async(lambda: empty_postgres_database(postgres_url))

    def act() -> None:
        with pytest.raises(httpx.TimeoutException):
            patient.http.post(
                "/graphql",
                json={"query": PROGRAMS},
                headers={"Authorization": f"Bearer {token}"},
                timeout=0.3,  # gives up while the statement waits: the connection closes
            )

    def nothing_waits(waiting: list[str]) -> None:
        assert waiting == [], "the statement of a request whose client left still waits"

    # A deadline far away: only the disconnect can stop the request within 2 s.
    with configured_api(postgres_url, authority=entra.base_url, request_timeout=60.0) as patient:
        run_async(lambda: _locked_then(postgres_url, act, nothing_waits, within=2.0))


# --- the websocket ------------------------------------------------------------------------------------


async def test_a_websocket_without_connection_init_is_closed_within_five_seconds(api: ApiServer) -> None:
    started = time.monotonic()
    async with opened(api.url.removesuffix("/graphql")) as client:
        code, _ = await client.closed_with(seconds=10)

    assert code == 4408  # "Connection initialisation timeout"
    assert time.monotonic() - started < 8


async def test_a_websocket_frame_over_a_megabyte_closes_the_socket(api: ApiServer, token: str) -> None:
    async with live(api.url.removesuffix("/graphql"), token) as client:
        await client.send({"id": "1", "type": "subscribe", "payload": {"query": " " * MAX_BODY_BYTES}})
        code, _ = await client.closed_with()

    assert code == 1009  # message too big
