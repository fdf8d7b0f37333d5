"""Outgoing email through Microsoft Graph `sendMail`: MSAL with the real authority, routed to the
loopback Entra and its Graph, which records what it was asked to send."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.errors import GraphError
from adapters.graph import ClientSecret, GraphConfig
from adapters.graph_mail import GraphMailTransport, classify_graph_error, graph_email
from adapters.msal_http import MsalHttpClient
from api.composition import GraphMailNotConfigured, mail_transport
from api.settings import Settings
from domain.clock import FixedClock
from domain.errors import PermanentDeliveryError, TemporaryDeliveryError
from domain.mail.delivery import OutboxDelivery
from domain.mail.outbox import QueuedMail
from domain.model import OutboxMessage
from domain.vocabulary import OutboxStatus
from sandbox.entra import new_tenant_id
from sandbox.graph import LoopbackUser, SentMail
from tests.support.entra import RunningEntra, routed_async_http, routed_msal_http
from tests.support.world import World

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
SECRET = "s3cret-for-mail"
MAIL_FROM = "Microsoft Partner Center <no-reply@partner.example>"
Sessions = async_sessionmaker[AsyncSession]


class Mailbox:
    """The operator tenant, its registered service and the mailbox it sends as."""

    def __init__(self, entra: RunningEntra) -> None:
        self.entra = entra
        self.tenant_id, self.client_id = new_tenant_id(), new_tenant_id()
        entra.entra.register_application(self.client_id, secret=SECRET, roles=["Mail.Send"])
        self.sender: LoopbackUser = entra.entra.add_directory_user(
            self.tenant_id, new_tenant_id(), "partner-center@ops.example", "Partner Center", "pc@ops.example"
        )

    def settings(self, **overrides: object) -> Settings:
        values: dict[str, object] = {
            "AZURE_CLIENT_ID": self.client_id,
            "AZURE_CLIENT_SECRET": SECRET,
            "AZURE_TENANT_ID": self.tenant_id,
            "INCENTIVES_MAIL_TRANSPORT": "graph",
            "INCENTIVES_MAIL_SENDER_USER": self.sender.user_principal_name,
        }
        return Settings.model_validate({**values, **overrides})

    def clients(self) -> tuple[httpx.AsyncClient, MsalHttpClient]:
        return routed_async_http(self.entra), routed_msal_http(self.entra)

    def sent(self) -> list[SentMail]:
        return [mail for mail in self.entra.entra.sent_mail if mail.tenant_id == self.tenant_id]


@pytest.fixture
def mailbox(entra: RunningEntra) -> Mailbox:
    return Mailbox(entra)


async def queue(sessions: Sessions, to: str = "admin@contoso.example") -> str:
    async with World(sessions).raw() as rows:
        message = await rows.outbox_message(
            "<graph-1@incentives>",
            to=to,
            subject="Your tax profile expires soon",
            body_text="Plain words.",
            body_html="<p>Rich <b>words</b>.</p>",
            queued_at=NOW,
        )
    return message.message_id


async def stored(sessions: Sessions, message_id: str) -> OutboxMessage:
    async with sessions() as session:
        return (await session.scalars(select(OutboxMessage).filter_by(message_id=message_id))).one()


async def deliver_once(sessions: Sessions, mailbox: Mailbox, **settings: object) -> int:
    transport = mail_transport(mailbox.settings(**settings), graph_clients=mailbox.clients)
    assert isinstance(transport, GraphMailTransport)
    delivery = OutboxDelivery(sessions, transport, clock=FixedClock(NOW), max_attempts=8)
    try:
        return await delivery.run_once()
    finally:
        await transport.aclose()


async def test_a_queued_message_is_sent_through_graph_as_the_sender_mailbox(
    sessions: Sessions, mailbox: Mailbox
) -> None:
    message_id = await queue(sessions)

    assert await deliver_once(sessions, mailbox) == 1

    [sent] = mailbox.sent()
    assert sent.sender == mailbox.sender
    assert sent.message["toRecipients"] == [{"emailAddress": {"address": "admin@contoso.example"}}]
    assert sent.message["subject"] == "Your tax profile expires soon"
    assert sent.message["body"] == {"contentType": "HTML", "content": "<p>Rich <b>words</b>.</p>"}
    assert sent.message["internetMessageId"] == message_id
    assert (await stored(sessions, message_id)).status is OutboxStatus.SENT


async def test_a_message_graph_refuses_is_dead_at_once_with_graphs_reason(
    sessions: Sessions, mailbox: Mailbox
) -> None:
    message_id = await queue(sessions, to="")  # no recipient: Graph answers 400

    assert await deliver_once(sessions, mailbox) == 0

    message = await stored(sessions, message_id)
    assert message.status is OutboxStatus.DEAD
    assert "400" in (message.last_error or "")
    assert "ErrorInvalidRecipients" in (message.last_error or "")


async def test_an_unknown_sender_mailbox_is_retried_until_someone_fixes_the_setting(
    sessions: Sessions, mailbox: Mailbox
) -> None:
    message_id = await queue(sessions)

    assert await deliver_once(sessions, mailbox, INCENTIVES_MAIL_SENDER_USER="nobody@ops.example") == 0

    message = await stored(sessions, message_id)
    assert (message.status, message.attempts) == (OutboxStatus.PENDING, 1)
    assert "404" in (message.last_error or "")
    assert mailbox.sent() == []


async def test_throttling_with_a_short_retry_after_is_waited_out_once(mailbox: Mailbox) -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "0"}), httpx.Response(202)])
    graph_http = httpx.AsyncClient(transport=httpx.MockTransport(lambda request: next(answers)))
    transport = GraphMailTransport(
        GraphConfig(mailbox.client_id, ClientSecret(SECRET)),
        tenant_id=mailbox.tenant_id,
        sender=mailbox.sender.user_principal_name,
        clients=lambda: (graph_http, routed_msal_http(mailbox.entra)),
    )
    try:
        await transport.send(email("admin@contoso.example"))
    finally:
        await transport.aclose()
    assert next(answers, None) is None


@pytest.mark.parametrize(
    ("status", "retry"),
    [(None, True), (400, False), (413, False), (401, True), (403, True), (404, True), (429, True),
     (500, True), (503, True)],
)  # fmt: skip
def test_graphs_answer_decides_whether_a_message_is_retried(status: int | None, retry: bool) -> None:
    error = classify_graph_error(GraphError(f"Microsoft Graph answered {status}", status=status))
    assert isinstance(error, TemporaryDeliveryError if retry else PermanentDeliveryError)


def test_a_plain_text_email_goes_to_graph_as_text() -> None:
    converted = graph_email(email("ines@contoso.example"))
    assert (converted.content_type, converted.body, list(converted.to)) == (
        "Text",
        "Plain words.",
        ["ines@contoso.example"],
    )


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        ("INCENTIVES_MAIL_SENDER_USER", "INCENTIVES_MAIL_SENDER_USER"),
        ("AZURE_CLIENT_SECRET", "AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH"),
        ("AZURE_TENANT_ID", "AZURE_TENANT_ID"),
    ],
)
def test_graph_mail_without_its_settings_refuses_to_start(
    mailbox: Mailbox, sessions: Sessions, missing: str, named: str
) -> None:
    settings = mailbox.settings(**{missing: None})
    with pytest.raises(GraphMailNotConfigured, match=named):
        mail_transport(settings)


def test_graph_is_chosen_by_the_mail_transport_setting(mailbox: Mailbox, sessions: Sessions) -> None:
    assert isinstance(mail_transport(mailbox.settings()), GraphMailTransport)


def email(to: str) -> QueuedMail:
    return QueuedMail(
        id=1,
        message_id="<m-1@incentives>",
        to_address=to,
        subject="Hello",
        body_text="Plain words.",
        body_html=None,
        attempts=0,
        created_at=NOW,
    )
