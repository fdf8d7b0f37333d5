"""The request's own plumbing (api/guard.py, api/logs.py): the disconnect watch starts only for a
request still running after WATCH_AFTER_SECONDS, and request ids are unique, UUID-shaped, and a
forked worker's differ from its parent's."""

from __future__ import annotations

import asyncio
import multiprocessing
import uuid
from typing import Any

import pytest
from starlette.types import Message

from api import guard
from api.logs import new_request_id


async def _run_guarded(answer_after: float, leave_after: float | None) -> tuple[list[Message], int]:
    """`guarded` over an app answering after `answer_after` s, its client leaving after
    `leave_after` s (never if None): what was sent, and the most tasks seen while the app ran."""
    sent: list[Message] = []
    most = 0

    async def app(scope: Any, receive: Any, send: Any) -> None:
        nonlocal most
        deadline = asyncio.get_running_loop().time() + answer_after
        while True:
            most = max(most, len(asyncio.all_tasks()))
            if asyncio.get_running_loop().time() >= deadline:
                break
            await asyncio.sleep(0.005)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    async def receive() -> Message:
        if leave_after is None:
            await asyncio.Event().wait()
        await asyncio.sleep(leave_after or 0)
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "headers": [], "state": {}}
    await guard.guarded(app, scope, b"{}", receive, send, seconds=10)
    return sent, most


async def test_a_request_answered_sooner_than_the_watch_starts_no_watcher_task() -> None:
    alone = len(asyncio.all_tasks())

    sent, most = await _run_guarded(answer_after=guard.WATCH_AFTER_SECONDS / 2, leave_after=None)

    assert [message["type"] for message in sent] == ["http.response.start", "http.response.body"]
    assert most == alone


async def test_a_longer_request_is_watched_and_stopped_when_its_client_leaves() -> None:
    alone = len(asyncio.all_tasks())

    sent, most = await _run_guarded(answer_after=2.0, leave_after=guard.WATCH_AFTER_SECONDS * 2)

    assert sent == []  # stopped before answering
    assert most == alone + 1  # the watcher


def test_request_ids_are_unique_and_uuid_shaped() -> None:
    ids = [new_request_id() for _ in range(1000)]

    assert len(set(ids)) == len(ids)
    assert {uuid.UUID(value).version for value in ids} == {4}
    assert all(str(uuid.UUID(value)) == value for value in ids)


def _child_id(queue: multiprocessing.Queue[str]) -> None:
    queue.put(new_request_id())


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork here")
def test_a_forked_worker_starts_its_own_series() -> None:
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[str] = context.Queue()
    parent = new_request_id()
    child = context.Process(target=_child_id, args=(queue,))
    child.start()
    child.join(10)

    forked = queue.get(timeout=5)

    assert forked[:24] != parent[:24]
