"""`incentives serve` killed (SIGKILL) in the middle of delivering the outbox, then started again.

Nothing is lost, and nothing the mail server had accepted AND the database had recorded is sent
twice. The one message a crash may send twice is the one in flight: accepted by the server but
not yet marked SENT when the process died. Delivery is one loop per process that sends one message
and commits its `mark_sent` before sending the next, so at most one message is ever in that state,
and it goes out again (same Message-ID) once the lease of the dead process's claim runs out.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.orm import Session

from domain.model import OutboxMessage
from domain.vocabulary import OutboxStatus
from tests.e2e.harness import environment, running
from tests.support.databases import migrate
from tests.support.entra import API_CLIENT_ID, OPERATOR_TENANT_ID, RunningEntra
from tests.support.ports import free_port
from tests.support.smtp import SmtpSink

pytestmark = pytest.mark.e2e

MESSAGES = 30
SECONDS_PER_MESSAGE = 0.1  # the SMTP server's pace: delivering the queue takes seconds, not milliseconds
LEASE_SECONDS = 5  # the smallest lease the setting allows: the dead process's claim expires quickly
KILL_AFTER = 3  # received messages before the kill
DELIVER_SECONDS = 60.0


@pytest.fixture
def database(tmp_path: Path) -> Iterator[tuple[Path, Engine]]:
    path = tmp_path / "mail.db"
    migrate(f"sqlite+aiosqlite:///{path}")
    engine = create_engine(f"sqlite:///{path}")
    try:
        yield path, engine
    finally:
        engine.dispose()


def test_serve_killed_mid_queue_and_restarted_loses_nothing_and_resends_only_the_message_in_flight(
    tmp_path: Path, database: tuple[Path, Engine], entra: RunningEntra, smtp_server: SmtpSink
) -> None:
    path, engine = database
    queued = _queue(engine, MESSAGES)
    smtp_server.slow_down(SECONDS_PER_MESSAGE)
    env = environment(
        DATABASE_URL=f"sqlite+aiosqlite:///{path}",
        AZURE_AUTHORITY_HOST=entra.base_url,
        AZURE_CLIENT_ID=API_CLIENT_ID,
        AZURE_TENANT_ID=OPERATOR_TENANT_ID,
        INCENTIVES_SMTP_HOST=smtp_server.host,
        INCENTIVES_SMTP_PORT=str(smtp_server.port),
        INCENTIVES_SMTP_TIMEOUT="5",
        INCENTIVES_MAIL_LEASE_SECONDS=str(LEASE_SECONDS),
        INCENTIVES_TAX_REMINDER_INTERVAL="0",  # no other mail joins the queue
    )

    with running("serve", "--port", str(free_port()), env=env, log=tmp_path / "first.log") as first:
        first.wait_for(lambda: len(smtp_server.received) >= KILL_AFTER, f"{KILL_AFTER} messages received")
        first.process.kill()
        first.process.wait(timeout=10)
    # The server cancels the handler of a connection that went away, so nothing more arrives.
    time.sleep(2 * SECONDS_PER_MESSAGE)
    received_before = Counter(smtp_server.message_ids())
    sent_before = _with_status(engine, OutboxStatus.SENT)
    in_flight = set(received_before) - sent_before

    assert KILL_AFTER <= len(received_before) < MESSAGES, "the kill did not land mid-queue"
    assert max(received_before.values()) == 1
    assert sent_before <= set(received_before), "marked SENT but never accepted"
    assert len(in_flight) <= 1, f"more than the one message in flight unrecorded: {in_flight}"

    with running("serve", "--port", str(free_port()), env=env, log=tmp_path / "second.log") as second:
        second.wait_for(
            lambda: _with_status(engine, OutboxStatus.SENT) == queued,
            f"all {MESSAGES} messages SENT after the restart",
            seconds=DELIVER_SECONDS,
        )
        assert second.stop() == 0, second.output()

    received = Counter(smtp_server.message_ids())
    assert set(received) == queued, "a message was lost (or one nobody queued arrived)"
    assert all(received[message_id] == 1 for message_id in sent_before), (
        "an accepted, recorded message went twice"
    )
    duplicates = {message_id: count for message_id, count in received.items() if count > 1}
    assert duplicates == dict.fromkeys(in_flight, 2), "only the message in flight at the kill goes twice"
    assert _with_status(engine, OutboxStatus.PENDING) == set()
    assert _with_status(engine, OutboxStatus.DEAD) == set()


def _queue(engine: Engine, count: int) -> set[str]:
    """Insert `count` pending messages due now, as a mutation would; return their Message-IDs."""
    messages = due_messages("restart", count)
    message_ids = {message.message_id for message in messages}
    with Session(engine) as session, session.begin():
        session.add_all(messages)
    return message_ids


def _with_status(engine: Engine, status: OutboxStatus) -> set[str]:
    with Session(engine) as session:
        return set(session.scalars(select(OutboxMessage.message_id).where(OutboxMessage.status == status)))


def due_messages(prefix: str, count: int) -> list[OutboxMessage]:
    """`count` pending messages due now, each with its own Message-ID `<{prefix}-{n}@incentives.test>`."""
    now = datetime.now(UTC) - timedelta(seconds=1)
    return [
        OutboxMessage(
            message_id=f"<{prefix}-{n}@incentives.test>",
            to_address=f"admin{n}@contoso.example",
            subject=f"Invitation {n}",
            body_text=f"Hello {n}",
            next_attempt_at=now,
            created_at=now,
        )
        for n in range(count)
    ]
