"""The operator's hand on outgoing mail: give dead letters a second chance."""

from __future__ import annotations

from collections.abc import Collection

from domain.access import Action, Actor
from domain.errors import Invalid
from domain.mail import outbox
from domain.services.guards import require
from domain.uow import UnitOfWork

MAX_REQUEUE = 100


async def requeue_mail(uow: UnitOfWork, actor: Actor, *, ids: Collection[int]) -> int:
    """Dead letters among `ids` are pending again, attempts from zero; return how many.

    Ids of messages that are not dead (sent, still pending, unknown) are left alone, so asking
    twice is harmless.
    """
    require(actor, Action.OPERATE)
    if not 1 <= len(ids) <= MAX_REQUEUE:
        raise Invalid(f"give 1 to {MAX_REQUEUE} message ids", ["messageIds"])
    async with uow:
        requeued = await outbox.requeue(uow.session, sorted(set(ids)), uow.clock.now())
        await uow.commit()
        return requeued
