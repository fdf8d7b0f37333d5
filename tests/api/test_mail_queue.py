"""The operator watches outgoing mail (`mailQueue`) and gives dead letters a second chance (`requeueMail`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from api.graphql.ids import to_global_id
from domain.model import OutboxMessage
from domain.vocabulary import OutboxStatus
from tests.api.world import ApiWorld
from tests.support import personas
from tests.support.entra import RunningEntra
from tests.support.in_process import InProcessApi
from tests.support.personas import Persona, Tenant
from tests.support.world import RawRows

QUEUE = """{ mailQueue { pending sent dead
  deadLetters { id messageId toAddress subject attempts lastError createdAt } } }"""
REQUEUE = """mutation($input: RequeueMailInput!) { requeueMail(input: $input) {
  requeued userErrors { field code } } }"""
# Microseconds, which `DateTime` leaves out (SQLite gives the value back naive: UTC).
QUEUED_AT = datetime(2026, 11, 20, 8, 0, 0, 654321, tzinfo=UTC)


@dataclass(frozen=True)
class Mail:
    operator: Persona
    global_admin: Persona
    dead_id: str
    sent_id: str


async def message(
    rows: RawRows, n: int, status: OutboxStatus, last_error: str | None = None
) -> OutboxMessage:
    return await rows.outbox_message(
        f"<queue-{n}@incentives>",
        to=f"admin{n}@contoso.example",
        subject=f"Message {n}",
        status=status,
        attempts=8 if status is OutboxStatus.DEAD else 0,
        last_error=last_error,
        queued_at=QUEUED_AT,
    )


async def pending_sent_and_dead(rows: RawRows) -> list[OutboxMessage]:
    return [
        await message(rows, 1, OutboxStatus.PENDING),
        await message(rows, 2, OutboxStatus.SENT),
        await message(rows, 3, OutboxStatus.DEAD, "550 5.1.1 <admin3@contoso.example>: mailbox unavailable"),
    ]


@pytest.fixture
def mail(world: ApiWorld, entra: RunningEntra) -> Mail:
    rows = world.raw(pending_sent_and_dead)  # only delivery moves mail past PENDING
    return Mail(
        operator=personas.operator(entra),
        global_admin=personas.global_admin(entra, Tenant()),
        dead_id=to_global_id("MailMessage", rows[2].id),
        sent_id=to_global_id("MailMessage", rows[1].id),
    )


def requeue(api: InProcessApi, caller: Persona, ids: list[str]) -> dict[str, Any]:
    return api.graphql(REQUEUE, {"input": {"messageIds": ids}}, token=caller.token)


def test_the_operator_sees_the_counts_and_each_dead_letters_last_error(api: InProcessApi, mail: Mail) -> None:
    body = api.graphql(QUEUE, token=mail.operator.token)

    assert "errors" not in body, body
    queue = body["data"]["mailQueue"]
    assert (queue["pending"], queue["sent"], queue["dead"]) == (1, 1, 1)
    assert queue["deadLetters"] == [
        {
            "id": mail.dead_id,
            "messageId": "<queue-3@incentives>",
            "toAddress": "admin3@contoso.example",
            "subject": "Message 3",
            "attempts": 8,
            "lastError": "550 5.1.1 <admin3@contoso.example>: mailbox unavailable",
            "createdAt": "2026-11-20T08:00:00Z",
        }
    ]


def test_the_mail_queue_is_forbidden_to_a_global_admin(api: InProcessApi, mail: Mail) -> None:
    body = api.graphql(QUEUE, token=mail.global_admin.token)

    assert body["data"]["mailQueue"] is None
    [error] = body["errors"]
    assert (error["path"], error["extensions"]["code"]) == (["mailQueue"], "FORBIDDEN")


def test_a_requeued_dead_letter_is_pending_again_and_requeueing_twice_does_nothing(
    api: InProcessApi, mail: Mail
) -> None:
    first = requeue(api, mail.operator, [mail.dead_id, mail.sent_id])
    again = requeue(api, mail.operator, [mail.dead_id])

    assert first["data"] == {"requeueMail": {"requeued": 1, "userErrors": []}}
    assert again["data"] == {"requeueMail": {"requeued": 0, "userErrors": []}}
    queue = api.graphql(QUEUE, token=mail.operator.token)["data"]["mailQueue"]
    assert (queue["pending"], queue["sent"], queue["dead"], queue["deadLetters"]) == (2, 1, 0, [])


def test_requeueing_mail_is_forbidden_to_a_global_admin(api: InProcessApi, mail: Mail) -> None:
    body = requeue(api, mail.global_admin, [mail.dead_id])

    assert body["data"] == {"requeueMail": None}
    assert [error["extensions"]["code"] for error in body["errors"]] == ["FORBIDDEN"]


def test_an_id_that_is_no_mail_message_is_not_found(api: InProcessApi, mail: Mail) -> None:
    body = requeue(api, mail.operator, [to_global_id("Enrollment", 1)])

    assert body["data"] == {
        "requeueMail": {
            "requeued": 0,
            "userErrors": [{"field": ["input", "messageIds"], "code": "NOT_FOUND"}],
        }
    }
