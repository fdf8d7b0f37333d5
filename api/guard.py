"""Bounds on one HTTP request to /graphql (README "Limits"): the body's size and the time it may take
to arrive, the time the answer may take, and a client that leaves.

    body = await read_body(scope, receive, seconds=10)          # BodyRefused: answer it, run nothing
    await guarded(app, scope, body, receive, send, seconds=10)   # TIMEOUT answer at the deadline

The body is read here, whole, before anything else reads it; the app then gets it from a replaying
`receive`. While the app runs (after its first WATCH_AFTER_SECONDS), the real `receive` is
watched: when the client disconnects, the app's work is cancelled (its database statements with
it: asyncpg cancels a query whose task is cancelled), and nothing is logged as an error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.database import interrupt_statements

logger = logging.getLogger("incentives.api")

MAX_BODY_BYTES = 1024 * 1024  # 1 MB: a query and its variables; GitHub allows the same order
TIMEOUT = "TIMEOUT"
MAX_WEBSOCKET_MESSAGE_BYTES = 1024 * 1024  # uvicorn's ws_max_size: a larger frame closes the socket (1009)
CONNECTION_INIT_SECONDS = 5  # a websocket that has not sent connection_init by then is closed (4408)
# How long a request runs before a client that leaves is watched for (and its work then stopped):
# most answers are sent sooner, and then no watcher task is made for them.
WATCH_AFTER_SECONDS = 0.05


class BodyRefused(Exception):
    """The request's body is not read further; `status` and `message` say why."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class ClientGone(Exception):
    """The client disconnected before its request was read."""


def error_body(message: str, code: str) -> bytes:
    return orjson.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})


async def send_json(
    send: Send,
    status: int,
    body: bytes,
    headers: Sequence[tuple[bytes, bytes]] = (),
    *,
    media: str | None = None,
) -> None:
    """A JSON answer, as `media` (the negotiated type; application/json when None)."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", (media or "application/json").encode()),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def read_body(scope: Scope, receive: Receive, *, seconds: float, limit: int = MAX_BODY_BYTES) -> bytes:
    """The whole body: `BodyRefused` past `limit` bytes (413) or `seconds` (408), `ClientGone`."""
    declared = dict(scope.get("headers") or ()).get(b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyRefused(413, "PAYLOAD_TOO_LARGE", f"The request body is over {limit:,} bytes.")
    chunks: list[bytes] = []
    size = 0
    # asyncio.timeout's work with one timer and no other object per request: the task is cancelled
    # at the deadline, and that cancellation alone becomes the 408.
    task = asyncio.current_task()
    assert task is not None
    expired = False

    def expire() -> None:
        nonlocal expired
        expired = True
        task.cancel()

    deadline = task.get_loop().call_later(seconds, expire)
    try:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise BodyRefused(413, "PAYLOAD_TOO_LARGE", f"The request body is over {limit:,} bytes.")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
    except asyncio.CancelledError:
        if not expired or task.uncancel() > 0:
            raise  # cancelled by someone else too: theirs to handle
        raise BodyRefused(
            408, "REQUEST_TIMEOUT", f"The request body did not arrive within {seconds:g} seconds."
        ) from None
    finally:
        deadline.cancel()


def check_json_body(scope: Scope, body: bytes) -> dict[str, Any] | None:
    """A JSON POST must hold a JSON object (the GraphQL-over-HTTP request); else `BodyRefused` 400.
    The object, parsed; None for a request that is not a JSON POST."""
    if scope.get("method") != "POST":
        return None
    content_type = dict(scope.get("headers") or ()).get(b"content-type", b"")
    if not content_type.split(b";")[0].strip().lower().endswith(b"json"):
        return None
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError as error:  # invalid UTF-8 and nesting past 1,024 levels included
        raise BodyRefused(400, "BAD_REQUEST", f"The request body is not valid JSON: {error}") from None
    if not isinstance(parsed, dict):
        raise BodyRefused(400, "BAD_REQUEST", "The request body must be a JSON object with a `query`.")
    return parsed


async def guarded(
    app: ASGIApp, scope: Scope, body: bytes, receive: Receive, send: Send, *, seconds: float
) -> None:
    """Run `app` on the read `body`; at the deadline (before the answer has started) answer 504
    `TIMEOUT`; when the client leaves, stop. Either way a SQLite statement under way is
    interrupted first (asyncpg cancels a PostgreSQL one with the task)."""
    replayed = False
    disconnected: asyncio.Event | None = None  # made when first waited for
    started = False
    stopped: str | None = None  # "deadline" or "gone"
    task = asyncio.current_task()
    assert task is not None
    loop = task.get_loop()
    timer: asyncio.TimerHandle

    def stop(why: str) -> None:
        nonlocal stopped
        if started or stopped is not None:
            return
        stopped = why
        interrupt_statements(task)
        task.cancel()

    def gone() -> asyncio.Event:
        nonlocal disconnected
        if disconnected is None:
            disconnected = asyncio.Event()
        return disconnected

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        await gone().wait()
        return {"type": "http.disconnect"}

    async def watch() -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                gone().set()
                stop("gone")
                return

    async def tracked(message: Message) -> None:
        nonlocal started
        if message["type"] == "http.response.start":
            started = True  # the answer is on its way: let it finish
            timer.cancel()
        await send(message)

    watcher: asyncio.Task[None] | None = None

    def start_watching() -> None:
        # One timer at a time: this one, then the deadline's (most answers cancel the first).
        nonlocal watcher, timer
        if started or stopped is not None:
            return
        if seconds <= WATCH_AFTER_SECONDS:
            stop("deadline")
            return
        timer = loop.call_later(seconds - WATCH_AFTER_SECONDS, stop, "deadline")
        watcher = asyncio.create_task(watch())

    # Most answers are sent sooner than this: they never start a task to watch for the client.
    timer = loop.call_later(min(seconds, WATCH_AFTER_SECONDS), start_watching)
    try:
        await app(scope, replay, tracked)
    except asyncio.CancelledError:
        if stopped is None:
            raise
        task.uncancel()
        if stopped == "gone":
            logger.info("client disconnected; its request was stopped")
            return
        logger.warning("request stopped after %g s (INCENTIVES_REQUEST_TIMEOUT)", seconds)
        message = f"The request took longer than {seconds:g} seconds and was stopped."
        await send_json(
            send, 504, error_body(message, TIMEOUT), media=scope.get("state", {}).get("media_type")
        )
    finally:
        timer.cancel()
        if watcher is not None:
            watcher.cancel()
