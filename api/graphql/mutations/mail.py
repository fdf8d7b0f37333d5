"""The operator's mail mutations: put dead letters back in the queue."""

from __future__ import annotations

import strawberry

from api.graphql.fields import held
from api.graphql.mutations.translate import Payload, key, mutation, perform
from api.graphql.types import Info
from domain.access import Action
from domain.services import mail_queue


@strawberry.input(description="The dead letters to try again.")
class RequeueMailInput:
    message_ids: list[strawberry.ID] = strawberry.field(
        description="The `id`s of dead letters (`mailQueue.deadLetters`), 1 to 100."
    )


@strawberry.type(description="The result of `requeueMail`.")
class RequeueMailPayload(Payload):
    requeued: int = held(
        default=0, description="Dead letters pending again; messages not dead are left alone."
    )


async def _requeue_mail(info: Info, input: RequeueMailInput) -> RequeueMailPayload | None:
    return await perform(
        info,
        RequeueMailPayload,
        lambda uow, actor: mail_queue.requeue_mail(
            uow, actor, ids=[key(value, "MailMessage", "messageIds") for value in input.message_ids]
        ),
        lambda requeued: RequeueMailPayload(requeued=requeued),
    )


@strawberry.type
class MailMutations:
    requeue_mail: RequeueMailPayload | None = mutation(
        _requeue_mail,
        "Sends dead letters again: pending, attempts from zero, delivered at the next round.",
        Action.OPERATE,
    )
