"""Refreshing the signing keys of the tenants in use in the background, as Microsoft advises.

Entra rolls its signing keys over without notice and recommends checking the keys about every hour
(https://learn.microsoft.com/entra/identity-platform/signing-key-rollover). The app's lifespan
starts one `KeyRefresher` and stops it at shutdown:

    refresher = KeyRefresher(keys, interval_seconds=3300)
    refresher.start()
    ...
    await refresher.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

logger = logging.getLogger(__name__)

# A little under the keys' one-hour lifetime, so the cache is renewed before a request finds it stale.
DEFAULT_INTERVAL_SECONDS = 55 * 60.0


class RefreshableKeys(Protocol):
    """What the refresher needs of `auth.keys.SigningKeys`."""

    async def refresh_in_use(self) -> None: ...


class KeyRefresher:
    """Calls `keys.refresh_in_use()` every `interval_seconds` between `start()` and `stop()`."""

    def __init__(
        self,
        keys: RefreshableKeys,
        *,
        interval_seconds: float = DEFAULT_INTERVAL_SECONDS,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if interval_seconds <= 0:
            raise ValueError("interval_seconds must be positive")
        self._keys = keys
        self._interval = interval_seconds
        self._sleep = sleep
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self._task is not None:
            raise RuntimeError("the key refresher is already started")
        self._task = asyncio.create_task(self._run(), name="signing-key-refresh")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _run(self) -> None:
        while True:
            await self._sleep(self._interval)
            await self.refresh_once()

    async def refresh_once(self) -> None:
        """One round; a failure is logged and the loop goes on (the last good keys keep serving)."""
        try:
            await self._keys.refresh_in_use()
        except Exception:  # the loop must outlive any bug in one round; the reason goes to the log
            logger.exception("background refresh of signing keys failed")
