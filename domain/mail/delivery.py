"""One round of delivering the outbox through a `Transport`, at least once.

For each due message: claim it (a committed lease), send it, THEN record the outcome in its own
committed transaction. A crash between a send and its record re-sends the message later with
the same Message-ID, so a receiver can drop the duplicate: that is the at-least-once trade.
Nothing queued is lost: a message leaves PENDING only when a server accepted or refused it, or
after `max_attempts` temporary failures (DEAD, with the last error for the operator).

`serve` runs rounds in a background loop (`adapters.loops.Periodic`, wired in `api.composition`):

    delivery = OutboxDelivery(sessions, SmtpTransport(...), clock=clock)
    delivered = await delivery.run_once()
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.clock import Clock
from domain.errors import PermanentDeliveryError, TemporaryDeliveryError
from domain.mail import outbox
from domain.mail.outbox import QueuedMail

logger = logging.getLogger("incentives.mail")

# Stop sending a claimed batch once this share of its lease has passed: the rest is left for
# the next claim rather than risk another process re-claiming a message while we still send it.
LEASE_SAFETY = 0.8
DEFAULT_BATCH_SIZE = 50


class Transport(Protocol):
    """Hands one queued message to a mail server (SMTP, or Microsoft Graph's sendMail).

    Raises `domain.errors.PermanentDeliveryError` when it was refused for good and
    `TemporaryDeliveryError` when it is worth trying again; anything else counts as temporary.
    """

    async def send(self, mail: QueuedMail) -> None: ...


class OutboxDelivery:
    """Delivers due outbox messages, a batch per `run_once()`."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        transport: Transport,
        *,
        clock: Clock,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_attempts: int = outbox.DEFAULT_MAX_ATTEMPTS,
        lease_seconds: float = outbox.DEFAULT_LEASE_SECONDS,
        backoff: outbox.Backoff = outbox.exponential_backoff,
        delivered: Callable[[str], None] = lambda result: None,
    ) -> None:
        self._sessions = sessions
        self._delivered = delivered  # told each attempt's result: sent, refused or failed (metrics)
        self._transport = transport
        self._clock = clock
        self.batch_size = batch_size
        self._max_attempts = max_attempts
        self._lease = timedelta(seconds=lease_seconds)
        self._backoff = backoff

    async def run_once(self, stopping: Callable[[], bool] = lambda: False) -> int:
        """Claim the due messages, send each, record each outcome; return how many were delivered.

        `stopping()` is asked before each message: a loop being stopped gives the rest of the batch
        back (due at once, for another process), as it does when the claim's lease runs short or
        the round is cancelled; only a message whose send was under way keeps its lease.
        """
        claimed_at = self._clock.now()
        async with self._transaction() as session:
            batch = await outbox.claim_due(session, claimed_at, self.batch_size, self._lease.total_seconds())
        unsent = list(reversed(batch))
        delivered = 0
        try:
            while unsent and not stopping() and self._clock.now() <= claimed_at + self._lease * LEASE_SAFETY:
                delivered += await self._deliver(unsent.pop())
        finally:
            if unsent:
                await self._give_back(unsent, claimed_at + self._lease)
        return delivered

    async def _give_back(self, unsent: list[QueuedMail], leased_until: datetime) -> None:
        ids = [mail.id for mail in unsent]
        async with self._transaction() as session:
            released = await outbox.release(session, ids, leased_until, self._clock.now())
        logger.info("gave %d claimed message(s) back unsent", released)

    async def _deliver(self, mail: QueuedMail) -> int:
        try:
            await self._transport.send(mail)
        except PermanentDeliveryError as error:
            self._delivered("refused")
            await self._record_refusal(mail, str(error))
            return 0
        except Exception as error:
            self._delivered("failed")
            await self._record_failure(mail, error)
            return 0
        self._delivered("sent")
        await self._record(lambda s: outbox.mark_sent(s, mail.id, self._clock.now()))
        return 1

    async def _record_refusal(self, mail: QueuedMail, reply: str) -> None:
        logger.warning("mail %s refused for good: %s", mail.message_id, reply)
        await self._record(lambda session: outbox.mark_refused(session, mail.id, self._clock.now(), reply))

    async def _record_failure(self, mail: QueuedMail, error: Exception) -> None:
        if not isinstance(error, TemporaryDeliveryError):
            # Not a mail server's answer but a bug or an unexpected library error: retry it like
            # a temporary failure, so it ends DEAD (visible) rather than blocking the batch.
            logger.exception("mail %s failed unexpectedly", mail.message_id)
        reason = str(error) or type(error).__name__

        async def fail(session: AsyncSession) -> object:
            return await outbox.mark_failed(
                session, mail.id, self._clock.now(), reason, self._max_attempts, backoff=self._backoff
            )

        await self._record(fail)
        logger.warning("mail %s not delivered (attempt %d): %s", mail.message_id, mail.attempts + 1, reason)

    async def _record(self, change: Callable[[AsyncSession], Awaitable[object]]) -> None:
        async with self._transaction() as session:
            await change(session)

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session, session.begin():
            yield session
