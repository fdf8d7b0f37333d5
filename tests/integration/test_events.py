"""Events across processes through PostgreSQL LISTEN/NOTIFY (skipped with a message without PostgreSQL).

Two engines stand for two API processes; the last test serves the API twice on one database and
subscribes on one server while the change goes through the other.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.events import APPLICATION_NAME, EventStream, PostgresBus
from api.app import create_app
from domain.clock import FixedClock
from domain.database import create_engine
from domain.events import EnrollmentChanged, Event, EventsMissed, InvitationsIssued
from tests.api.client import Client
from tests.api.world import api_world
from tests.support.databases import empty_postgres_database, run_async
from tests.support.entra import RunningEntra
from tests.support.live import eventually, live
from tests.support.served import serve
from tests.support.server import TODAY, ApiServer, api_settings

pytestmark = pytest.mark.postgres

WAIT = 10.0
ENROLLMENTS = "subscription { enrollmentStatusChanged { id status } }"


@pytest.fixture
def empty_postgres(postgres_url: str) -> str:
    run_async(lambda: empty_postgres_database(postgres_url))
    return postgres_url


@pytest.fixture
async def engines(empty_postgres: str) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    first, second = create_engine(empty_postgres), create_engine(empty_postgres)
    try:
        yield first, second
    finally:
        await first.dispose()
        await second.dispose()


@pytest.fixture
async def buses(engines: tuple[AsyncEngine, AsyncEngine]) -> AsyncIterator[tuple[PostgresBus, PostgresBus]]:
    first, second = PostgresBus(engines[0]), PostgresBus(engines[1])
    await first.start()
    await second.start()
    try:
        assert first.listening
        assert second.listening
        yield first, second
    finally:
        await first.stop()
        await second.stop()


async def next_event(stream: EventStream, seconds: float = WAIT) -> object:
    async with asyncio.timeout(seconds):
        return await anext(stream)


async def test_an_event_published_by_one_process_is_heard_by_every_process(
    buses: tuple[PostgresBus, PostgresBus],
) -> None:
    publisher, listener = buses
    with publisher.subscribe() as own, listener.subscribe() as other:
        await publisher.publish(EnrollmentChanged(id=42))
        await publisher.publish(InvitationsIssued(program_id=4, fiscal_year=2027))

        assert await next_event(other) == EnrollmentChanged(id=42)
        assert await next_event(other) == InvitationsIssued(program_id=4, fiscal_year=2027)
        assert await next_event(own) == EnrollmentChanged(id=42)


async def test_malformed_notifications_are_ignored(
    buses: tuple[PostgresBus, PostgresBus], engines: tuple[AsyncEngine, AsyncEngine]
) -> None:
    _, listener = buses
    with listener.subscribe() as stream:
        async with engines[0].connect() as connection:
            for payload in ("not json", '{"kind": "enrollment", "id": "7"}', '{"kind": "rollover"}'):
                await connection.execute(
                    text("SELECT pg_notify('incentives_events', :payload)"), {"payload": payload}
                )
            await connection.commit()
        await buses[0].publish(EnrollmentChanged(id=7))

        assert await next_event(stream) == EnrollmentChanged(id=7)


async def test_listening_resumes_after_the_connection_is_lost(
    buses: tuple[PostgresBus, PostgresBus], empty_postgres: str
) -> None:
    publisher, listener = buses
    await _terminate_listeners(empty_postgres)
    with listener.subscribe() as stream:
        # Events published while nobody listens are lost (best effort): publish until one is heard.
        async with asyncio.timeout(WAIT):
            while True:
                await publisher.publish(EnrollmentChanged(id=1))
                try:
                    assert await next_event(stream, seconds=0.3) == EnrollmentChanged(id=1)
                    break
                except TimeoutError:
                    continue
    assert listener.listening


async def test_a_listener_that_listens_again_tells_its_process_that_events_were_missed(
    buses: tuple[PostgresBus, PostgresBus], empty_postgres: str
) -> None:
    _, listener = buses
    heard: list[Event] = []
    listener.on_event(heard.append)
    with listener.subscribe() as stream:
        await _terminate_listeners(empty_postgres)

        await eventually(lambda: heard == [EventsMissed()])  # the callers it remembers are dropped
        await buses[0].publish(EnrollmentChanged(id=3))
        assert await next_event(stream) == EnrollmentChanged(id=3)  # subscribers hear changes only


LISTENERS = "FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()"


async def _terminate_listeners(url: str) -> None:
    """End every listening connection to the database, the two buses' among them. The worker's
    tests share the database, and another test's listener may still be there: it is ended too,
    which changes nothing here, so at least the two are counted."""
    dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        killed = await connection.fetchval(
            f"SELECT count(pg_terminate_backend(pid)) {LISTENERS}", APPLICATION_NAME
        )
    finally:
        await connection.close()
    assert killed >= 2


class TwoServers:
    """The API served twice on one PostgreSQL database, like two processes behind a balancer."""

    def __init__(self, entra: RunningEntra, url: str, stack: ExitStack) -> None:
        self.servers: list[ApiServer] = []
        self.buses: list[PostgresBus] = []
        self.engines: list[AsyncEngine] = []
        for _ in range(2):
            engine = create_engine(url)
            bus = PostgresBus(engine)
            clock = FixedClock(TODAY)
            app = create_app(api_settings(entra, url), clock=clock, engine=engine, events=bus)
            served = stack.enter_context(serve(app))
            http = stack.enter_context(httpx.Client(base_url=served, timeout=30))
            self.servers.append(
                ApiServer(url=served, database_url=url, engine=engine, clock=clock, http=http)
            )
            self.buses.append(bus)
            self.engines.append(engine)


@pytest.fixture
def two_servers(entra: RunningEntra, empty_postgres: str) -> Iterator[TwoServers]:
    with ExitStack() as stack:
        servers = TwoServers(entra, empty_postgres, stack)
        try:
            yield servers
        finally:
            stack.close()  # servers first, then their engines
            for engine in servers.engines:
                run_async(engine.dispose)


async def test_a_subscriber_of_one_server_hears_a_change_made_through_another(
    two_servers: TwoServers, entra: RunningEntra
) -> None:
    heard_on, changed_on = two_servers.servers
    client = Client(changed_on, entra)
    with api_world(changed_on.database_url, client) as world:
        invited = world.invited()
        enrollment = world.validating(invited, "2030-01-31")
    async with live(heard_on.url, invited.admin.token) as listener:
        await listener.subscribe("1", ENROLLMENTS)
        await eventually(lambda: two_servers.buses[0].subscribers == 1)
        client.ok(client.operator(), "reviewEnrollment", {"enrollmentId": enrollment, "approved": True})

        heard = (await listener.next_data("1"))["enrollmentStatusChanged"]
        assert heard == {"id": enrollment, "status": "ENROLLED"}
