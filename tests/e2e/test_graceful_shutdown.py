"""`incentives serve` told to stop (SIGTERM) under load, mid-way through delivering the outbox
(CONTRACT 6.5, issue 24 item 2), on both databases.

Clients send queries and mutations in a loop; a subscription is open; the SMTP server is slow, so
the outbox sender is in the middle of a claimed batch (lease: 300 s). Then SIGTERM:
- /readyz answers 503 at once, /livez 200, and for the readiness window new connections are served;
- every mutation that was written got a whole 200 answer, and every 200 answer was written: a
  request either was accepted and answered, or its connection was refused before it was read;
- the websocket is closed with 1001; the process exits 0;
- the rest of the claimed batch is given back: a second process delivers it at once, not after
  the lease, and no message arrives twice.

`serve --workers 2` told to stop (SIGTERM to the supervisor) under the same load, with a mutation
whose body is still arriving across the readiness window: every worker drains and exits, the
supervisor exits 0 within the grace, and every accepted request (the slow one too) is answered.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from domain.database import create_engine
from domain.model import Location, OutboxMessage
from domain.vocabulary import OutboxStatus
from tests.e2e.harness import Running, environment, running
from tests.e2e.test_mail_restart import due_messages
from tests.e2e.test_workers import alive, listeners
from tests.support import personas
from tests.support.databases import run_async
from tests.support.entra import API_CLIENT_ID, OPERATOR_TENANT_ID, RunningEntra
from tests.support.ports import free_port
from tests.support.smtp import SmtpSink

pytestmark = pytest.mark.e2e

MESSAGES = 40
SECONDS_PER_MESSAGE = 0.15
CLIENTS = 4
ADD_LOCATION = """mutation($input: AddLocationInput!) {
  addLocation(input: $input) { location { id } userErrors { code } } }"""
VIEWER = "{ viewer { objectId organization { locations(first: 5) { totalCount } } } }"
SUBSCRIBE = "subscription { invitationReceived { id } }"


@dataclass
class Load:
    """What the clients saw: names of locations answered 200, and requests refused before acceptance."""

    prefix: str = "c"  # of the locations' names, "c0-1"...: each test its own
    answered: set[str] = field(default_factory=set)
    queries: int = 0
    refused: int = 0
    # Reset before an answer: queued in a closing listener's backlog, never read (the kernel resets
    # those); a mutation reset after it was read would show as written but unanswered.
    reset: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def start(self, base_url: str, token: str) -> list[threading.Thread]:
        """CLIENTS clients sending in a loop until `stop` is set."""
        clients = [
            threading.Thread(target=self.run, args=(base_url, token, n), daemon=True) for n in range(CLIENTS)
        ]
        for client in clients:
            client.start()
        return clients

    def run(self, base_url: str, token: str, client: int) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            name = f"{self.prefix}{client}-{n}"
            self._one(base_url, token, name)

    def _one(self, base_url: str, token: str, name: str) -> None:
        # A connection per request: an error is then the connection's, never a reused one's.
        headers = {"Authorization": f"Bearer {token}", "Connection": "close"}
        variables = {"input": {"name": name, "country": "DE", "partnerType": "DIRECT_RESELLER"}}
        mutation = self._send(base_url, headers, {"query": ADD_LOCATION, "variables": variables}, name)
        if mutation is not None:
            if mutation.status_code == 200 and "errors" not in mutation.json():
                self.answered.add(name)
            else:
                self.broken.append(f"{name}: {mutation.status_code} {mutation.text[:200]}")
        query = self._send(base_url, headers, {"query": VIEWER}, name)
        if query is not None:
            if query.status_code == 200 and "errors" not in query.json():
                self.queries += 1
            else:
                self.broken.append(f"{name} (query): {query.status_code} {query.text[:200]}")

    def _send(self, base_url: str, headers: dict[str, str], body: object, name: str) -> httpx.Response | None:
        try:
            return httpx.post(f"{base_url}/graphql", json=body, headers=headers, timeout=30)
        except httpx.ConnectError:  # refused before acceptance: a client retries elsewhere
            self.refused += 1
            time.sleep(0.05)
        except (httpx.ReadError, httpx.RemoteProtocolError) as error:
            self.reset.append(f"{name}: {error!r}")
        except httpx.TransportError as error:
            self.broken.append(f"{name}: {error!r}")
        return None


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(f"{request.param}_url"))


def test_sigterm_under_load_answers_every_accepted_request_and_passes_the_outbox_on_at_once(
    tmp_path: Path, database_url: str, entra: RunningEntra, smtp_server: SmtpSink
) -> None:
    queued = _queue(database_url, MESSAGES)
    smtp_server.slow_down(SECONDS_PER_MESSAGE)
    env = _settings(
        database_url,
        entra,
        INCENTIVES_SMTP_HOST=smtp_server.host,
        INCENTIVES_SMTP_PORT=str(smtp_server.port),
        INCENTIVES_SHUTDOWN_WINDOW_SECONDS="2",
        INCENTIVES_SHUTDOWN_GRACE_SECONDS="15",
    )
    admin = personas.global_admin(entra, personas.Tenant())
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    load = Load()
    with running("serve", "--port", str(port), env=env, log=tmp_path / "first.log") as first:
        first.wait_until_healthy(base_url)
        _register(base_url, admin.token)
        subscription = Subscription(base_url, admin.token)
        subscription.start()
        assert subscription.subscribed.wait(timeout=10), "no connection_ack"
        clients = load.start(base_url, admin.token)
        first.wait_for(lambda: len(smtp_server.received) >= 3, "3 messages received")
        time.sleep(0.5)  # load on
        with httpx.Client(base_url=base_url, timeout=5) as kept_alive:
            before = kept_alive.get("/readyz").headers.get("connection")
            first.process.terminate()
            after = _first_not_ready(kept_alive).headers.get("connection")
            readiness = _probe(base_url, first)
        exit_code = first.process.wait(timeout=30)
        load.stop.set()
        for client in clients:
            client.join(timeout=30)
        output = first.output()
        subscription.join(timeout=10)
        sent_by_first = Counter(smtp_server.message_ids())

    assert exit_code == 0, output
    assert set(readiness["readyz"]) == {503}, readiness  # at least one probe, every one 503
    assert set(readiness["livez"]) == {200}, readiness
    assert (before, after) == (None, "close"), "a kept-alive connection is told to go elsewhere"
    assert subscription.closed_with == 1001, (subscription.closed_with, output)
    written = _locations(database_url, load.prefix)
    assert load.answered, "no mutation was answered before the signal"
    assert written == load.answered, (
        f"written but unanswered: {sorted(written - load.answered)[:5]}; "
        f"answered but not written: {sorted(load.answered - written)[:5]}; broken: {load.broken[:5]}"
    )
    assert load.refused > 0, "the listener never closed while clients were sending"
    assert len(sent_by_first) < MESSAGES, "the first process sent everything before the signal"

    # The second process takes the rest at once: the lease (300 s) has not run out.
    with running("serve", "--port", str(free_port()), env=env, log=tmp_path / "second.log") as second:
        second.wait_for(lambda: set(smtp_server.message_ids()) >= queued, "every message sent", seconds=60)
        assert second.stop() == 0, second.output()

    received = Counter(smtp_server.message_ids())
    assert set(received) == queued
    assert max(received.values()) == 1, "a message went twice"


def test_sigterm_to_the_supervisor_of_workers_answers_every_accepted_request_and_stops_them_all(
    tmp_path: Path, database_url: str, entra: RunningEntra
) -> None:
    grace = 15
    env = _settings(
        database_url,
        entra,
        INCENTIVES_SHUTDOWN_WINDOW_SECONDS="1",
        INCENTIVES_SHUTDOWN_GRACE_SECONDS=str(grace),
    )
    admin = personas.global_admin(entra, personas.Tenant())
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    load = Load(prefix="w")
    with running(
        "serve", "--port", str(port), "--workers", "2", env=env, log=tmp_path / "serve.log"
    ) as served:
        served.wait_for(lambda: served.output().count("Application startup complete") == 2, "two workers")
        served.wait_until_healthy(base_url)
        _register(base_url, admin.token)
        workers = listeners(port)
        clients = load.start(base_url, admin.token)
        served.wait_for(lambda: len(load.answered) >= 10, "10 answered mutations")
        slow = SlowMutation(base_url, admin.token, "slow-1", pause=2.0)  # spans the readiness window
        slow.start()
        slow.read.wait(timeout=10)
        signalled = time.monotonic()
        served.process.terminate()
        exit_code = served.process.wait(timeout=grace + 10)
        stopped_in = time.monotonic() - signalled
        load.stop.set()
        for client in [*clients, slow]:
            client.join(timeout=30)
        output = served.output()

    assert exit_code == 0, output
    assert stopped_in < grace, output
    assert len(workers) == 2
    assert not [pid for pid in workers if alive(pid)], output
    assert load.broken == [], output
    written = _locations(database_url, load.prefix)
    assert written == load.answered, (sorted(written ^ load.answered)[:5], output)
    assert slow.answer == "200 slow-1 written", (slow.answer, output)
    assert _locations(database_url, "slow") == {"slow-1"}


class SlowMutation(threading.Thread):
    """An addLocation whose body arrives in two parts `pause` seconds apart: accepted (its headers
    read) before the signal, still being received after it; `answer` is what came back."""

    def __init__(self, base_url: str, token: str, name: str, pause: float) -> None:
        super().__init__(daemon=True)
        self.read = threading.Event()
        self.answer = "none"
        variables = {"input": {"name": name, "country": "DE", "partnerType": "DIRECT_RESELLER"}}
        self._body = json.dumps({"query": ADD_LOCATION, "variables": variables}).encode()
        self._url, self._token, self._name, self._pause = f"{base_url}/graphql", token, name, pause

    def _parts(self) -> Iterator[bytes]:
        yield self._body[:10]
        self.read.set()
        time.sleep(self._pause)
        yield self._body[10:]

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self._token}", "Content-Type": "application/json"}
        try:
            reply = httpx.post(self._url, content=self._parts(), headers=headers, timeout=30)
        except httpx.TransportError as error:
            self.answer = repr(error)
            return
        ok = reply.status_code == 200 and reply.json()["data"]["addLocation"]["location"] is not None
        self.answer = f"{reply.status_code} {self._name} {'written' if ok else reply.text[:200]}"


def _settings(database_url: str, entra: RunningEntra, **more: str) -> dict[str, str]:
    """`serve`'s environment on `database_url`, without the background jobs that would add load."""
    return environment(
        DATABASE_URL=database_url,
        AZURE_AUTHORITY_HOST=entra.base_url,
        AZURE_CLIENT_ID=API_CLIENT_ID,
        AZURE_TENANT_ID=OPERATOR_TENANT_ID,
        INCENTIVES_TAX_REMINDER_INTERVAL="0",
        INCENTIVES_ROLLOVER_INTERVAL="0",
        **more,
    )


def _register(base_url: str, token: str) -> None:
    reply = httpx.post(
        f"{base_url}/graphql",
        json={
            "query": 'mutation { registerOrganization(input: {legalName: "Drain Ltd", country: "DE"}) '
            "{ userErrors { code } } }"
        },
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    assert reply["data"]["registerOrganization"]["userErrors"] == [], reply


class Subscription(threading.Thread):
    """A subscription held open in a thread; `closed_with` is the close code it ended with."""

    def __init__(self, base_url: str, token: str) -> None:
        super().__init__(daemon=True)
        self.url = "ws" + base_url.removeprefix("http") + "/graphql"
        self.token = token
        self.subscribed = threading.Event()
        self.closed_with: int | None = None

    def run(self) -> None:
        with connect(self.url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
            init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {self.token}"}}
            socket.send(json.dumps(init))
            if json.loads(socket.recv(timeout=10))["type"] != "connection_ack":
                return
            socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
            self.subscribed.set()
            try:
                while True:
                    socket.recv(timeout=60)
            except ConnectionClosed as closed:
                self.closed_with = closed.rcvd.code if closed.rcvd else -1
            except TimeoutError:
                self.closed_with = -2


def _first_not_ready(client: httpx.Client) -> httpx.Response:
    """/readyz on the client's kept-alive connection until the process has seen the signal."""
    while (answer := client.get("/readyz")).status_code != 503:
        time.sleep(0.01)
    return answer


def _probe(base_url: str, process: Running) -> dict[str, list[int]]:
    """/readyz and /livez on new connections from the signal until the listener closes."""
    seen: dict[str, list[int]] = {"readyz": [], "livez": []}
    deadline = time.monotonic() + 30
    while process.process.poll() is None and time.monotonic() < deadline:
        try:
            for path in seen:
                seen[path].append(httpx.get(f"{base_url}/{path}", timeout=5).status_code)
        except httpx.TransportError:
            break  # refused: the window is over
        time.sleep(0.05)
    return seen


def _queue(database_url: str, count: int) -> set[str]:
    messages = due_messages("drain", count)
    ids = {message.message_id for message in messages}

    async def insert() -> None:
        engine = create_engine(database_url)
        try:
            async with engine.begin() as connection:
                await connection.run_sync(lambda sync: _add(sync, messages))
        finally:
            await engine.dispose()

    run_async(insert)
    return ids


def _add(connection: object, messages: list[OutboxMessage]) -> None:
    from sqlalchemy.orm import Session

    with Session(bind=connection) as session:  # type: ignore[arg-type]
        session.add_all(messages)
        session.flush()


def _locations(database_url: str, prefix: str) -> set[str]:
    async def names() -> set[str]:
        engine = create_engine(database_url)
        try:
            async with engine.connect() as connection:
                named = Location.name.like(f"{prefix}%-%")
                rows = await connection.execute(select(Location.name).where(named))
                return {row[0] for row in rows}
        finally:
            await engine.dispose()

    return run_async(names)


def _pending(database_url: str) -> int:
    async def count() -> int:
        engine = create_engine(database_url)
        try:
            async with engine.connect() as connection:
                query = select(func.count()).where(OutboxMessage.status == OutboxStatus.PENDING)
                return int((await connection.execute(query)).scalar_one())
        finally:
            await engine.dispose()

    return run_async(count)
