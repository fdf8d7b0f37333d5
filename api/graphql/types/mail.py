"""Outgoing mail as the operator sees it: how much waits, went out, was given up on, and why."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

import strawberry

from api.graphql.ids import to_global_id
from api.graphql.types.base import Info, field, object_type, require
from domain.access import Action
from domain.mail import outbox

MAX_DEAD_LETTERS = 100
MAIL_QUEUE = (
    "Outgoing email: pending, sent and dead (given up on) messages. "
    "Null (with a FORBIDDEN error at this path) for anyone else."
)


@object_type("An email given up on after its delivery attempts, with the last error.", Action.OPERATE)
class DeadLetter:
    id: strawberry.ID = strawberry.field(description="Give it to `requeueMail` to try again.")
    message_id: str = strawberry.field(description="The email's Message-ID header, stable across retries.")
    to_address: str = strawberry.field(description="The recipient's email address.")
    subject: str = strawberry.field(description="The email's subject line.")
    attempts: int = strawberry.field(description="How many times delivery was tried.")
    last_error: str | None = strawberry.field(description="The mail server's (or Graph's) last answer.")
    created_at: datetime = strawberry.field(description="When the email was queued.")
    dead_at: datetime = strawberry.field(description="When delivery was given up on.")

    @classmethod
    def from_letter(cls, letter: outbox.DeadLetter) -> Self:
        return cls(
            id=to_global_id("MailMessage", letter.id),
            message_id=letter.message_id,
            to_address=letter.to_address,
            subject=letter.subject,
            attempts=letter.attempts,
            last_error=letter.last_error,
            created_at=letter.created_at,
            dead_at=letter.dead_at,
        )


@object_type("The outgoing email queue.", Action.OPERATE)
class MailQueue:
    pending: int = strawberry.field(description="Waiting to be delivered (including retries).")
    sent: int = strawberry.field(description="Accepted by the mail server.")
    dead: int = strawberry.field(description="Given up on: see `deadLetters`.")

    @field(f"The most recently given up on first (1 to {MAX_DEAD_LETTERS}).")
    async def dead_letters(
        self,
        info: Info,
        first: Annotated[
            int | None, strawberry.argument(description=f"How many, 1 to {MAX_DEAD_LETTERS}; null: 20.")
        ] = 20,
    ) -> list[DeadLetter]:
        limit = max(1, min(first or 20, MAX_DEAD_LETTERS))
        letters = await info.context.loaders.run(lambda session: outbox.dead_letters(session, limit))
        return [DeadLetter.from_letter(letter) for letter in letters]


async def mail_queue(info: Info) -> MailQueue | None:
    """`Query.mailQueue`: the counts for an operator, FORBIDDEN for anyone else."""
    require(info, Action.OPERATE)
    counts = await info.context.loaders.run(outbox.queue_counts)
    return MailQueue(pending=counts.pending, sent=counts.sent, dead=counts.dead)
