"""Tax profile expiry reminders in the background of `serve`: at startup, then every hour.

    reminders = TaxReminders(sessions, clock, days=30, interval=3600, public_url=..., mail_queued=wake)
    reminders.start()        # in the running event loop (the app's lifespan)
    await reminders.stop()

Every round is one call of `domain.reminders.queue_tax_expiry_reminders`, which claims what it
sends in the database: several workers (`serve --workers N`) running rounds side by side never
queue a reminder twice. A failed round (the database away, a bug) is logged and tried again at
the next one; the loop itself only ends with `stop()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.clock import Clock
from domain.reminders import queue_tax_expiry_reminders
from domain.uow import UnitOfWork

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL_SECONDS = 3600.0


class TaxReminders:
    """Queues due reminders every `interval` seconds (the first round at once) until `stop()`."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        days: int,
        public_url: str,
        interval: float = DEFAULT_INTERVAL_SECONDS,
        mail_queued: Callable[[], None] = lambda: None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._days = days
        self._public_url = public_url
        self._interval = interval
        self._mail_queued = mail_queued
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> int:
        """One round: queue the reminders due today; return how many emails were queued."""
        uow = UnitOfWork(self._sessions, self._clock)
        queued = await queue_tax_expiry_reminders(
            uow, today=self._clock.today(), days=self._days, public_url=self._public_url
        )
        if queued:
            logger.info("queued %d tax profile expiry reminder(s)", queued)
            self._mail_queued()
        return queued

    def start(self) -> None:
        """Run rounds in the background; call from inside the running event loop."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="tax-expiry-reminders")

    async def stop(self) -> None:
        """End the loop; a round in flight is cancelled, its transaction rolled back (nothing lost)."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _run(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                logger.exception("tax expiry reminders failed; trying again in %.0f s", self._interval)
            await asyncio.sleep(self._interval)
