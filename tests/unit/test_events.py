"""The event payloads, the in-process fan-out, and where a websocket's token is read from."""

from __future__ import annotations

import asyncio

import pytest

from adapters.events import EventStream, InProcessBus, decode, encode
from api.websocket import authorization_of
from domain.events import EnrollmentChanged, InvitationsIssued


@pytest.mark.parametrize(
    "event", [EnrollmentChanged(id=123), InvitationsIssued(program_id=4, fiscal_year=2027)]
)
def test_an_event_survives_its_payload(event: EnrollmentChanged | InvitationsIssued) -> None:
    assert decode(encode(event)) == event


def test_payloads_are_the_small_documented_json() -> None:
    assert encode(EnrollmentChanged(id=123)) == '{"kind": "enrollment", "id": 123}'
    assert (
        encode(InvitationsIssued(4, 2027)) == '{"kind": "invitations", "program_id": 4, "fiscal_year": 2027}'
    )


@pytest.mark.parametrize(
    "payload",
    ["", "[]", "null", '{"kind": "enrollment"}', '{"kind": "enrollment", "id": true}', '{"kind": "other"}'],
)
def test_a_malformed_payload_is_no_event(payload: str) -> None:
    assert decode(payload) is None


async def test_every_subscriber_hears_every_event_in_order() -> None:
    bus = InProcessBus()
    with bus.subscribe() as first, bus.subscribe() as second:
        await bus.publish(EnrollmentChanged(1))
        await bus.publish(EnrollmentChanged(2))
        for stream in (first, second):
            assert [await _next(stream), await _next(stream)] == [EnrollmentChanged(1), EnrollmentChanged(2)]
    assert bus.subscribers == 0


async def test_stopping_the_bus_ends_every_stream() -> None:
    bus = InProcessBus()
    stream = bus.subscribe()
    await bus.stop()
    assert [event async for event in stream] == []


async def test_a_full_stream_drops_events_for_itself_only() -> None:
    streams: set[EventStream] = set()
    slow = EventStream(streams, capacity=1)
    slow.offer(EnrollmentChanged(1))
    slow.offer(EnrollmentChanged(2))
    assert await _next(slow) == EnrollmentChanged(1)


@pytest.mark.parametrize(
    ("payload", "authorization"),
    [
        ({"Authorization": "Bearer abc"}, ["Bearer abc"]),
        ({"authorization": "Bearer abc"}, ["Bearer abc"]),
        ({"token": "abc"}, ["Bearer abc"]),
        ({}, []),
        ({"Authorization": 7}, [""]),
        ({"Authorization": "Bearer a", "token": "b"}, ["Bearer a", "Bearer b"]),  # ambiguous: refused
    ],
)
def test_the_token_is_read_from_the_connection_init_payload(
    payload: dict[str, object], authorization: list[str]
) -> None:
    assert authorization_of(payload) == authorization


async def _next(stream: EventStream) -> object:
    async with asyncio.timeout(1):
        return await anext(stream)
