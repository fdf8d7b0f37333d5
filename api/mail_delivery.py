"""The background loop that empties the outbox through a `Transport`, at least once.

For each due message: claim it (a committed lease), send it, THEN record the outcome in its own
committed transaction. A crash between a send and its record re-sends the message later with
the same Message-ID, so a receiver can drop the duplicate: that is the at-least-once trade.
Nothing queued is lost: a message leaves PENDING only when a server accepted or refused it, or
after `max_attempts` temporary failures (DEAD, with the last error for the operator).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.mail_errors import PermanentDeliveryError, TemporaryDeliveryError
from domain import outbox
from domain.clock import Clock
from domain.outbox import QueuedMail

logger = logging.getLogger(__name__)

# Stop sending a claimed batch once this share of its lease has passed: the rest is left for
# the next claim rather than risk another process re-claiming a message while we still send it.
LEASE_SAFETY = 0.8


class Transport(Protocol):
    """Hands one message to a mail server; raises a `DeliveryError` subclass when it is not accepted."""

    async def send(self, message: EmailMessage) -> None: ...


def compose_email(mail: QueuedMail, mail_from: str) -> EmailMessage:
    """The queued row as an email: plain text, plus an HTML alternative when the row has one.

    Message-ID and Date come from the row, so every retry is the same message to a receiver.
    """
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    message["Message-ID"] = mail.message_id
    message["Date"] = format_datetime(mail.created_at)
    message.set_content(mail.body_text)
    if mail.body_html:
        message.add_alternative(mail.body_html, subtype="html")
    return message


class OutboxDelivery:
    """Delivers due outbox messages every `poll_interval` seconds, or at once after `wake()`.

    `start()` runs the loop as a task of the running event loop; `await stop()` lets the
    message in flight finish. `await run_once()` is one round, for tests and batch jobs.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        transport: Transport,
        mail_from: str,
        *,
        clock: Clock,
        poll_interval: float = 2.0,
        batch_size: int = 50,
        max_attempts: int = outbox.DEFAULT_MAX_ATTEMPTS,
        lease_seconds: float = outbox.DEFAULT_LEASE_SECONDS,
        backoff: outbox.Backoff = outbox.exponential_backoff,
        stop_timeout: float = 10.0,
    ) -> None:
        self._sessions = sessions
        self._transport = transport
        self._mail_from = mail_from
        self._clock = clock
        self._poll_interval = poll_interval
        self._batch_size = batch_size
        self._max_attempts = max_attempts
        self._lease = timedelta(seconds=lease_seconds)
        self._backoff = backoff
        self._stop_timeout = stop_timeout
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> int:
        """Claim the due messages, send each, record each outcome; return how many were delivered."""
        claimed_at = self._clock.now()
        async with self._transaction() as session:
            batch = await outbox.claim_due(session, claimed_at, self._batch_size, self._lease.total_seconds())
        delivered = 0
        for mail in batch:
            if self._stopping or self._clock.now() > claimed_at + self._lease * LEASE_SAFETY:
                break
            delivered += await self._deliver(mail)
        return delivered

    def start(self) -> None:
        """Run rounds in the background until `stop()`; call from inside the running event loop."""
        if self._task is None or self._task.done():
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="outbox-delivery")

    async def stop(self) -> None:
        """Finish the message in flight (up to `stop_timeout` seconds), then end the loop."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), self._stop_timeout)
        except TimeoutError:
            # A hung send: cancelling leaves its message leased, so it is sent again later.
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        finally:
            if not task.done():  # stop() itself was cancelled: do not leave the loop running
                task.cancel()
            self._stopping = False  # run_once may still be called by hand, e.g. in a batch job

    def wake(self) -> None:
        """Deliver promptly: a mutation just queued mail. Call from the event loop's thread."""
        self._wake.set()

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            delivered = 0
            try:
                delivered = await self.run_once()
            except Exception:
                # The database or a bug: this round is lost, the messages are not.
                logger.exception("outbox delivery round failed; retrying next round")
            if delivered < self._batch_size:
                await self._idle()

    async def _idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self._poll_interval)

    async def _deliver(self, mail: QueuedMail) -> int:
        try:
            await self._transport.send(compose_email(mail, self._mail_from))
        except PermanentDeliveryError as error:
            await self._record_refusal(mail, str(error))
            return 0
        except Exception as error:
            await self._record_failure(mail, error)
            return 0
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
