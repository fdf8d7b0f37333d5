"""Outgoing mail as the operator sees it: how much waits, went out, was given up on, and why."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

import strawberry

from api.graphql.declared import Argument, Asked, Guard, Reading, Row
from api.graphql.fields import batch, column, computed
from api.graphql.ids import to_global_id
from api.graphql.types.base import object_type
from domain.access import Action
from domain.mail import outbox

MAX_DEAD_LETTERS = 100
MAIL_QUEUE = (
    "Outgoing email: pending, sent and dead (given up on) messages. "
    "Null (with a FORBIDDEN error at this path) for anyone else."
)
OPERATORS = Guard(Action.OPERATE)


@object_type("An email given up on after its delivery attempts, with the last error.", OPERATORS)
class DeadLetter:
    """Its row: a `domain.mail.outbox.DeadLetter`."""

    row: strawberry.Private[Any]
    id: strawberry.ID = computed(
        lambda letter: to_global_id("MailMessage", letter.id), "Give it to `requeueMail` to try again."
    )
    message_id: str = column("The email's Message-ID header, stable across retries.")
    to_address: str = column("The recipient's email address.")
    subject: str = column("The email's subject line.")
    attempts: int = column("How many times delivery was tried.")
    last_error: str | None = column("The mail server's (or Graph's) last answer.")
    created_at: datetime = column("When the email was queued.")
    dead_at: datetime = column("When delivery was given up on.")


async def _dead_letters(reading: Reading, queues: Sequence[Row], asked: Asked) -> list[Any]:
    first = asked.args.get("first")
    limit = max(1, min(first or 20, MAX_DEAD_LETTERS))
    letters = await outbox.dead_letters(reading.session, limit)
    return [letters for _ in queues]


FIRST = Argument(
    Annotated[int | None, strawberry.argument(description=f"How many, 1 to {MAX_DEAD_LETTERS}; null: 20.")],
    20,
)


@object_type("The outgoing email queue.", OPERATORS)
class MailQueue:
    """Its row: the queue's counts (`domain.mail.outbox.QueueCounts`)."""

    row: strawberry.Private[Any]
    pending: int = column("Waiting to be delivered (including retries).")
    sent: int = column("Accepted by the mail server.")
    dead: int = column("Given up on: see `deadLetters`.")
    dead_letters: list[DeadLetter] = batch(
        _dead_letters,
        f"The most recently given up on first (1 to {MAX_DEAD_LETTERS}).",
        arguments={"first": FIRST},
    )


async def mail_queue(reading: Reading, roots: Sequence[Row], asked: Asked) -> list[Any]:
    """`Query.mailQueue`: the counts."""
    counts = await outbox.queue_counts(reading.session)
    return [counts for _ in roots]
