"""The event bus (`domain.events.EventBus`): published after a commit, heard by every API process.

    bus = bus_for(engine)              # PostgresBus on PostgreSQL, InProcessBus on SQLite
    await bus.start()
    with bus.subscribe() as events:    # registered at once: nothing published after this is missed
        async for event in events: ...
    await bus.publish(EnrollmentChanged(id=7))   # from another request, or another process

An event is a small hint, never data: each subscriber reads from the database what it may see.
Delivery is best effort: an event is lost when its process dies between the commit and the
publish, while a lost LISTEN connection is being re-established, or for one subscriber whose
queue is full (a slow client must not hold memory for everyone).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from types import TracebackType
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.loops import Periodic
from domain.database import session_url
from domain.events import (
    CallersChanged,
    EnrollmentChanged,
    Event,
    EventBus,
    EventsMissed,
    InvitationsIssued,
)

logger = logging.getLogger("incentives.events")

CHANNEL = "incentives_events"
# Names the LISTEN connections in pg_stat_activity.
APPLICATION_NAME = "incentives-events"
STREAM_CAPACITY = 1000
PUBLISH_TIMEOUT_SECONDS = 5.0
CONNECT_TIMEOUT_SECONDS = 10.0
START_TIMEOUT_SECONDS = 5.0
# A LISTEN connection that silently died (no FIN from the network) is noticed by this probe.
PROBE_INTERVAL_SECONDS = 30.0
PROBE_TIMEOUT_SECONDS = 5.0
RETRY_MIN_SECONDS = 0.5
RETRY_MAX_SECONDS = 30.0


def encode(event: Event) -> str:
    """The NOTIFY payload: `{"kind": "enrollment", "id": 7}`, `{"kind": "invitations", ...}` or
    `{"kind": "callers", "tenant_id": "..."}`."""
    if isinstance(event, EnrollmentChanged):
        return json.dumps({"kind": "enrollment", "id": event.id})
    if isinstance(event, CallersChanged):
        return json.dumps({"kind": "callers", "tenant_id": event.tenant_id})
    if isinstance(event, InvitationsIssued):
        return json.dumps(
            {"kind": "invitations", "program_id": event.program_id, "fiscal_year": event.fiscal_year}
        )
    raise ValueError(f"{event!r} is never sent between processes")


def decode(payload: str) -> Event | None:
    """The event of a payload; None for anything malformed (logged, never raised)."""
    try:
        data = json.loads(payload)
        if data["kind"] == "enrollment":
            return EnrollmentChanged(id=_integer(data["id"]))
        if data["kind"] == "callers" and isinstance(data["tenant_id"], str):
            return CallersChanged(data["tenant_id"][:64])
        if data["kind"] == "invitations":
            return InvitationsIssued(_integer(data["program_id"]), _integer(data["fiscal_year"]))
    except (ValueError, KeyError, TypeError):
        pass
    logger.warning("ignored a malformed event payload: %.200r", payload)
    return None


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("not an integer")
    return value


class EventStream:
    """One subscriber's events in order; ends when closed (leaving `with`) or when its bus stops."""

    def __init__(self, streams: set[EventStream], capacity: int = STREAM_CAPACITY) -> None:
        self._streams = streams
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue(maxsize=capacity)
        streams.add(self)

    def offer(self, event: Event) -> None:
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            logger.warning("a subscriber is too slow: an event was dropped for it")

    def close(self) -> None:
        """Unregister and end the iteration after what is queued (dropping the oldest when full)."""
        self._streams.discard(self)
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> Event:
        event = await self._queue.get()
        if event is None:
            self._queue.put_nowait(None)  # stays ended for any later reader
            raise StopAsyncIteration
        return event

    def __enter__(self) -> EventStream:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._streams.discard(self)


class InProcessBus:
    """Fan-out to the subscribers of this process (SQLite: one process serves the API)."""

    def __init__(self) -> None:
        self._streams: set[EventStream] = set()
        self._handlers: list[Callable[[Event], None]] = []

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        for stream in list(self._streams):
            stream.close()

    async def publish(self, event: Event) -> None:
        self.deliver(event)

    def deliver(self, event: Event) -> None:
        self.handle(event)
        for stream in list(self._streams):
            stream.offer(event)

    def handle(self, event: Event) -> None:
        """Tell this process's own bookkeeping (`on_event`), not its subscribers."""
        for handler in self._handlers:
            try:
                handler(event)
            except Exception:  # one handler's bug must not keep the event from the others
                logger.exception("an event handler failed on %r", event)

    def subscribe(self) -> EventStream:
        return EventStream(self._streams)

    def on_event(self, handler: Callable[[Event], None]) -> None:
        self._handlers.append(handler)

    @property
    def subscribers(self) -> int:
        return len(self._streams)


class PostgresBus:
    """NOTIFY through the app's engine; LISTEN on a dedicated asyncpg connection, re-established when lost.

    Every process hears its own notifications too, so local subscribers are served by LISTEN alone.
    """

    def __init__(self, engine: AsyncEngine, *, channel: str = CHANNEL) -> None:
        self._engine = engine
        self._channel = channel
        self._local = InProcessBus()
        self._listening = asyncio.Event()
        self._first_attempt_done = asyncio.Event()
        self._delay = RETRY_MIN_SECONDS
        self._loop = Periodic(
            "incentives-events-listen",
            self._listen_round,
            interval=RETRY_MIN_SECONDS,
            failure="event LISTEN loop failed",
            log=logger,
        )

    @property
    def listening(self) -> bool:
        return self._listening.is_set()

    async def start(self) -> None:
        """Start listening: waits for the first attempt (bounded), then keeps trying in the background.

        The API serves HTTP even while PostgreSQL cannot be reached; subscribers hear events once
        LISTEN is in place.
        """
        self._loop.start()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(START_TIMEOUT_SECONDS):
                await self._first_attempt_done.wait()
        if not self.listening:
            logger.warning("not listening for events yet; retrying in the background")

    async def stop(self) -> None:
        await self._loop.stop()
        await self._local.stop()

    async def publish(self, event: Event) -> None:
        async with self._engine.connect() as connection:
            await connection.execute(
                text("SELECT pg_notify(:channel, :payload)"),
                {"channel": self._channel, "payload": encode(event)},
            )
            await connection.commit()

    def subscribe(self) -> EventStream:
        return self._local.subscribe()

    def on_event(self, handler: Callable[[Event], None]) -> None:
        self._local.on_event(handler)

    @property
    def subscribers(self) -> int:
        return self._local.subscribers

    async def _listen_round(self) -> float:
        """Listen until the connection is lost; returns how long to wait before listening again."""
        try:
            await self._listen_until_lost()
            self._delay = RETRY_MIN_SECONDS
        except Exception as error:  # whatever broke the connection, listening must go on
            logger.warning("event LISTEN connection failed (%r); retrying in %.1fs", error, self._delay)
        finally:
            self._first_attempt_done.set()
            self._listening.clear()
        delay, self._delay = self._delay, min(self._delay * 2, RETRY_MAX_SECONDS)
        return delay

    async def _listen_until_lost(self) -> None:
        lost = asyncio.Event()
        # Behind PgBouncer in transaction mode LISTEN needs a session of its own: the direct URL.
        dsn = (
            make_url(session_url(self._engine))
            .set(drivername="postgresql")
            .render_as_string(hide_password=False)
        )
        connection = await asyncpg.connect(
            dsn, timeout=CONNECT_TIMEOUT_SECONDS, server_settings={"application_name": APPLICATION_NAME}
        )
        try:
            connection.add_termination_listener(lambda _connection: lost.set())
            await connection.add_listener(self._channel, self._heard)
            self._listening.set()
            self._first_attempt_done.set()
            logger.info("listening for events on %s", self._channel)
            # Whatever was announced while no connection listened is lost: this process's caches
            # hear so (subscribers are not told: their streams carry changes only).
            self._local.handle(EventsMissed())
            while not await _lost_within(lost, PROBE_INTERVAL_SECONDS):
                await connection.execute("SELECT 1", timeout=PROBE_TIMEOUT_SECONDS)
            logger.warning("event LISTEN connection lost")
        finally:
            self._listening.clear()
            connection.terminate()

    def _heard(self, connection: object, pid: int, channel: str, payload: str) -> None:
        event = decode(payload)
        if event is not None:
            self._local.deliver(event)


async def _lost_within(lost: asyncio.Event, seconds: float) -> bool:
    try:
        async with asyncio.timeout(seconds):
            await lost.wait()
    except TimeoutError:
        return False
    return True


def bus_for(engine: AsyncEngine) -> EventBus:
    """PostgreSQL: across processes with LISTEN/NOTIFY. SQLite: within this process only."""
    if engine.url.get_backend_name() == "postgresql":
        return PostgresBus(engine)
    return InProcessBus()


async def publish_safely(bus: EventBus, event: Event) -> None:
    """Publish after a commit: the change is done, so a failure here is logged, never raised."""
    try:
        async with asyncio.timeout(PUBLISH_TIMEOUT_SECONDS):
            await bus.publish(event)
    except Exception:  # the mutation committed; a lost notification must not turn it into an error
        logger.warning("could not publish %r", event, exc_info=True)
