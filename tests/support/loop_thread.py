"""An event loop of its own in a daemon thread, for sync tests that need async work done.

    with loop_thread("world") as loop:
        organization_id = loop.run(world.organization())

Async resources (an engine's connections, a client) belong to the loop that opened them: open,
use and close them all through the same `LoopThread`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")
WAIT = 30.0


class LoopThread:
    def __init__(self, name: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)

    def start(self) -> LoopThread:
        self._thread.start()
        return self

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` on the thread's loop and wait for its result (or its exception)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(WAIT)

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(WAIT)

    def _serve(self) -> None:
        # Closed on its own thread: the caller of stop() may be running a loop of its own.
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
        finally:
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()


@contextmanager
def loop_thread(name: str) -> Iterator[LoopThread]:
    loop = LoopThread(name).start()
    try:
        yield loop
    finally:
        loop.stop()
