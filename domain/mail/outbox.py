"""The storage side of outgoing email: claim due messages, record how each delivery went.

Delivery is at least once. A sender claims a batch (`claim_due`), sends each message, then
records the outcome in its own transaction (`mark_sent`, `mark_failed`, `mark_refused`). A claim
is a lease: it pushes `next_attempt_at` forward so no other process takes the message while this
one sends; if the sender dies, the message is due again once the lease runs out.

The functions here never commit: the caller owns the transaction (claim in one, each outcome in
its own), so a crash can lose at most the record of one send, never a message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.model import OutboxMessage
from domain.vocabulary import OutboxStatus

DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_LEASE_SECONDS = 300.0
MAX_ERROR_LENGTH = 2000

# After the n-th failed attempt, how long until the next one.
Backoff = Callable[[int], timedelta]


def exponential_backoff(attempts: int, *, base: float = 30.0, cap: float = 3600.0) -> timedelta:
    """30 s after the first failure, doubling each time, never more than an hour: 30, 60, 120 ..."""
    exponent = max(attempts - 1, 0)
    # Compare exponents rather than computing 2**n for a large n: the cap is reached long before.
    if exponent >= 32:
        return timedelta(seconds=cap)
    return timedelta(seconds=min(base * 2**exponent, cap))


def retry_at(
    attempts: int, now: datetime, max_attempts: int, backoff: Backoff = exponential_backoff
) -> datetime | None:
    """When to try again after `attempts` failures, or None: give up, the message is dead."""
    if attempts >= max_attempts:
        return None
    return now + backoff(attempts)


@dataclass(frozen=True)
class QueuedMail:
    """A claimed message, detached from any session: what a sender needs to compose it."""

    id: int
    message_id: str
    to_address: str
    subject: str
    body_text: str
    body_html: str | None
    attempts: int
    created_at: datetime


@dataclass(frozen=True)
class QueueCounts:
    pending: int
    sent: int
    dead: int


@dataclass(frozen=True)
class DeadLetter:
    """A message given up on, with the reason the operator needs to act on."""

    id: int
    message_id: str
    to_address: str
    subject: str
    attempts: int
    last_error: str | None
    created_at: datetime
    dead_at: datetime


async def claim_due(
    session: AsyncSession,
    now: datetime,
    limit: int,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
) -> list[QueuedMail]:
    """Lease up to `limit` pending messages due at `now`, oldest first; commit to make the claim hold.

    One statement, `UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING`: on
    PostgreSQL concurrent claimers skip each other's rows instead of waiting or taking them twice;
    SQLite ignores FOR UPDATE, and there the UPDATE takes the database's single write lock first.
    """
    due = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claim = (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(due.scalar_subquery()))
        .values(next_attempt_at=now + timedelta(seconds=lease_seconds))
        .returning(OutboxMessage)
        .execution_options(synchronize_session=False)
    )
    claimed = (await session.scalars(claim)).all()
    return sorted((_queued(message) for message in claimed), key=lambda mail: mail.id)


async def release(session: AsyncSession, ids: Sequence[int], leased_until: datetime, now: datetime) -> int:
    """Give claimed messages back unsent (a sender stopping): due again at `now`, for any process.

    Only while the claim is still this sender's (`next_attempt_at` is its lease's end): a message
    another process claimed since, after the lease ran out, stays that process's.
    """
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(ids),
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.next_attempt_at == leased_until,
        )
        .values(next_attempt_at=now)
    )
    return int(getattr(result, "rowcount", 0))


async def mark_sent(session: AsyncSession, id: int, now: datetime) -> None:
    """The mail server accepted the message: it will not be sent again."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == id)
        .values(status=OutboxStatus.SENT, sent_at=now, attempts=OutboxMessage.attempts + 1)
    )


async def mark_failed(
    session: AsyncSession,
    id: int,
    now: datetime,
    error: str,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    *,
    backoff: Backoff = exponential_backoff,
) -> OutboxStatus:
    """A temporary failure: retry after `backoff(attempts)`, or give up (DEAD) after `max_attempts`."""
    message = await _load(session, id)
    message.attempts += 1
    message.last_error = truncate_error(error)
    retry = retry_at(message.attempts, now, max_attempts, backoff)
    if retry is None:
        _bury(message, now)
    else:
        message.next_attempt_at = retry
    await session.flush()
    return message.status


async def mark_refused(session: AsyncSession, id: int, now: datetime, error: str) -> None:
    """A permanent refusal (a 5xx reply): retrying cannot help, so the message is DEAD at once."""
    message = await _load(session, id)
    message.attempts += 1
    message.last_error = truncate_error(error)
    _bury(message, now)
    await session.flush()


async def requeue(session: AsyncSession, ids: Sequence[int], now: datetime) -> int:
    """An operator's second chance for dead letters: pending again, attempts from zero."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.DEAD)
        .values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now)
    )
    return int(getattr(result, "rowcount", 0))


async def queue_counts(session: AsyncSession) -> QueueCounts:
    """How many messages wait, went out, and were given up on."""
    rows = await session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
    counts = {status: int(count) for status, count in rows}
    return QueueCounts(
        pending=counts.get(OutboxStatus.PENDING, 0),
        sent=counts.get(OutboxStatus.SENT, 0),
        dead=counts.get(OutboxStatus.DEAD, 0),
    )


@dataclass(frozen=True)
class Backlog:
    """What waits in the outbox: pending messages, the oldest one's queueing time, dead ones."""

    pending: int
    oldest_pending: datetime | None
    dead: int


async def backlog(session: AsyncSession) -> Backlog:
    """The outbox's backlog, in one statement over the messages not sent (the sent ones are not read)."""
    rows = await session.execute(
        select(OutboxMessage.status, func.count(), func.min(OutboxMessage.created_at))
        .where(OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.DEAD)))
        .group_by(OutboxMessage.status)
    )
    found = {status: (int(count), oldest) for status, count, oldest in rows}
    pending, oldest = found.get(OutboxStatus.PENDING, (0, None))
    return Backlog(pending=pending, oldest_pending=oldest, dead=found.get(OutboxStatus.DEAD, (0, None))[0])


async def dead_letters(session: AsyncSession, limit: int = 50) -> list[DeadLetter]:
    """The most recently buried messages first, each with its last error."""
    messages = await session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.DEAD)
        .order_by(OutboxMessage.next_attempt_at.desc(), OutboxMessage.id.desc())
        .limit(limit)
    )
    return [_dead_letter(message) for message in messages]


def truncate_error(error: str) -> str:
    return error if len(error) <= MAX_ERROR_LENGTH else error[: MAX_ERROR_LENGTH - 1] + "…"


async def _load(session: AsyncSession, id: int) -> OutboxMessage:
    message = await session.get(OutboxMessage, id, populate_existing=True)
    if message is None:
        raise LookupError(f"no outbox message {id}")
    return message


def _bury(message: OutboxMessage, now: datetime) -> None:
    # A dead message is never due again, so next_attempt_at is free to record when it died.
    message.status = OutboxStatus.DEAD
    message.next_attempt_at = now


def _queued(message: OutboxMessage) -> QueuedMail:
    return QueuedMail(
        id=message.id,
        message_id=message.message_id,
        to_address=message.to_address,
        subject=message.subject,
        body_text=message.body_text,
        body_html=message.body_html,
        attempts=message.attempts,
        created_at=message.created_at,
    )


def _dead_letter(message: OutboxMessage) -> DeadLetter:
    return DeadLetter(
        id=message.id,
        message_id=message.message_id,
        to_address=message.to_address,
        subject=message.subject,
        attempts=message.attempts,
        last_error=message.last_error,
        created_at=message.created_at,
        dead_at=message.next_attempt_at,
    )
