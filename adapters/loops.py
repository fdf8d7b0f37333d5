"""The one background loop every periodic job of `serve` runs in: mail delivery, tax expiry
reminders, signing-key refreshes and the event bus's LISTEN connection.

    loop = Periodic("tax-expiry-reminders", remind, interval=3600, failure="tax expiry reminders failed")
    loop.start()          # in the running event loop (the app's lifespan)
    loop.wake()           # run the next round now instead of at the end of the interval
    await loop.stop()     # ends the loop; a round in flight gets `grace` seconds to finish, then is cancelled

A round is any coroutine function. It may return how many seconds to wait before the next round
(0: at once, e.g. when a batch came back full); anything else means `interval`. A round that
raises is logged with `failure` and the loop goes on: the last good state keeps serving, and the
work is tried again at the next round. Only `stop()` ends the loop. With a `tracer` (traces on),
each round is the root span of a trace of its own, named after the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from opentelemetry.context import Context
from opentelemetry.trace import Tracer

logger = logging.getLogger("incentives.loops")

Round = Callable[[], Awaitable[object]]
_NEW_TRACE = Context()  # a round's span has no parent: each batch is a trace


class Periodic:
    """Runs `round` every `interval` seconds (the first at once unless `wait_first`) until `stop()`."""

    def __init__(
        self,
        name: str,
        round: Round,
        *,
        interval: float,
        failure: str,
        wait_first: bool = False,
        grace: float = 0.0,
        log: logging.Logger = logger,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if interval <= 0:
            raise ValueError(f"the interval of {name} must be positive")
        self.name = name
        self._round = round
        self._interval = interval
        self._failure = failure
        self._wait_first = wait_first
        self._grace = grace
        self._log = log
        self._sleep = sleep
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self.tracer: Tracer | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def stopping(self) -> bool:
        """True once `stop()` was called: a long round checks it to end early and cleanly."""
        return self._stopping

    def start(self) -> None:
        """Start the loop as a task of the running event loop."""
        if self.running:
            raise RuntimeError(f"{self.name} is already started")
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name=self.name)

    def wake(self) -> None:
        """Run the next round now. Call from the event loop's thread."""
        self._wake.set()

    async def stop(self) -> None:
        """End the loop: a round in flight may finish within `grace` seconds, else it is cancelled."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            if self._grace > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(task), self._grace)
        finally:
            # Not done within the grace (or stop() itself was cancelled): never leave it running.
            if not task.done():
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        delay = self._interval if self._wait_first else 0.0
        while not self._stopping:
            await self._idle(delay)
            if self._stopping:
                return
            delay = await self._one_round()

    async def _one_round(self) -> float:
        self._wake.clear()  # a wake() during the round asks for another one right after it
        try:
            if self.tracer is None:
                asked = await self._round()
            else:
                with self.tracer.start_as_current_span(self.name, context=_NEW_TRACE):
                    asked = await self._round()
        except Exception:  # the loop must outlive any failure of one round; the reason is logged
            self._log.exception("%s", self._failure)
            return self._interval
        if isinstance(asked, int | float) and not isinstance(asked, bool) and asked >= 0:
            return float(asked)
        return self._interval

    async def _idle(self, seconds: float) -> None:
        """Wait `seconds`, or less when woken."""
        if seconds <= 0 or self._wake.is_set():
            return
        waits = [asyncio.ensure_future(self._sleep(seconds)), asyncio.ensure_future(self._wake.wait())]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
