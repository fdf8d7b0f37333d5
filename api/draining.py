"""What a process does between SIGTERM and its exit (CONTRACT 6.5), as the app sees it.

    draining = Draining()
    draining.on_stop(loop.stop)        # the composition root: background loops (outbox, batch jobs)
    draining.begin()                   # the server, at the signal: /readyz answers 503 from now on,
                                       # and batch jobs (given `draining` as their `Stopping`) end
                                       # after the batch in flight
    await draining.stop_background()   # loops end at a batch boundary and give up their leases
    await draining.close_websockets()  # subscriptions end with close code 1001 (going away)

The server (`api.graceful`) decides when each step happens; this module holds only the state the
app's routes and the composition root share, so nothing here imports uvicorn.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from starlette.types import Send

logger = logging.getLogger("incentives.api")

GOING_AWAY = 1001  # RFC 6455: "an endpoint is going away, such as a server going down"
Stop = Callable[[], Awaitable[None]]


class Draining:
    """Whether the process is stopping, and what must stop with it."""

    def __init__(self) -> None:
        self.stopping = False
        self._stops: list[Stop] = []
        self._stopped: asyncio.Future[list[object]] | None = None
        self._websockets: set[Send] = set()  # each open websocket's ASGI `send`

    def begin(self) -> None:
        """From now on /readyz answers 503. Safe to call from a signal handler (sets a flag only)."""
        self.stopping = True

    def requested(self) -> bool:
        """`domain.jobs.Stopping`: batch jobs end at their next batch boundary once this is True."""
        return self.stopping

    def on_stop(self, stop: Stop) -> None:
        self._stops.append(stop)

    async def stop_background(self) -> None:
        """Stop every registered loop, together; a second call waits for the first's end."""
        self.begin()  # also on the way out without a signal: jobs end at a batch boundary
        if self._stopped is None:
            self._stopped = asyncio.gather(*(stop() for stop in self._stops), return_exceptions=True)
        for failure in await asyncio.shield(self._stopped):
            if isinstance(failure, BaseException):
                logger.error("a background loop failed to stop", exc_info=failure)

    def opened(self, send: Send) -> None:
        self._websockets.add(send)

    def closed(self, send: Send) -> None:
        self._websockets.discard(send)

    async def close_websockets(self) -> None:
        """Close every open websocket with 1001: a client reconnects to another process."""
        close = {"type": "websocket.close", "code": GOING_AWAY, "reason": "Server shutting down"}
        for send in list(self._websockets):
            with contextlib.suppress(Exception):  # closed meanwhile: nothing to tell it
                await send(close)
