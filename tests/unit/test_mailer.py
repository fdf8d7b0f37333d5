"""Composing queued mail and deciding, from the SMTP answer, whether to try again."""

from __future__ import annotations

from datetime import UTC, datetime

import aiosmtplib
import pytest

from adapters.smtp import SmtpSettings, classify_smtp_error, compose_email
from api.composition import smtp_settings
from api.settings import Settings
from domain.errors import DeliveryError, PermanentDeliveryError, TemporaryDeliveryError
from domain.mail.outbox import QueuedMail

MAIL_FROM = "Microsoft Partner Center <no-reply@partner.example>"


def queued(*, body_html: str | None = "<p>Hello</p>") -> QueuedMail:
    return QueuedMail(
        id=1,
        message_id="<invitation-12-0@incentives>",
        to_address="admin@contoso.example",
        subject="Partner Incentive Enrollment Invitation",
        body_text="Hello",
        body_html=body_html,
        attempts=0,
        created_at=datetime(2026, 11, 21, 9, 0, tzinfo=UTC),
    )


def test_a_queued_message_keeps_its_message_id_and_date_from_the_row() -> None:
    message = compose_email(queued(), MAIL_FROM)

    assert message["Message-ID"] == "<invitation-12-0@incentives>"
    assert message["Date"] == "Sat, 21 Nov 2026 09:00:00 +0000"
    assert message["From"] == MAIL_FROM
    assert message["To"] == "admin@contoso.example"


def test_a_message_with_html_is_plain_text_and_html_alternatives() -> None:
    message = compose_email(queued(), MAIL_FROM)

    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]


def test_a_message_without_html_is_plain_text() -> None:
    assert compose_email(queued(body_html=None), MAIL_FROM).get_content_type() == "text/plain"


def refused(code: int) -> aiosmtplib.SMTPRecipientsRefused:
    return aiosmtplib.SMTPRecipientsRefused(
        [aiosmtplib.SMTPRecipientRefused(code, "5.1.1 No such user", "nobody@contoso.example")]
    )


def test_a_recipient_refused_with_5xx_is_permanent_and_keeps_the_reply() -> None:
    error = classify_smtp_error(refused(550))

    assert isinstance(error, PermanentDeliveryError)
    assert "550 5.1.1 No such user" in str(error)


def test_a_recipient_refused_with_4xx_is_retried() -> None:
    assert isinstance(classify_smtp_error(refused(450)), TemporaryDeliveryError)


@pytest.mark.parametrize(
    "error",
    [
        aiosmtplib.SMTPConnectError("connection refused"),
        aiosmtplib.SMTPConnectTimeoutError("timed out"),
        aiosmtplib.SMTPServerDisconnected("gone"),
        aiosmtplib.SMTPDataError(451, "try later"),
        aiosmtplib.SMTPSenderRefused(553, "sender not allowed", "no-reply@partner.example"),
        aiosmtplib.SMTPAuthenticationError(535, "bad credentials"),
        ConnectionRefusedError(111, "Connection refused"),
    ],
)
def test_unreachable_slow_or_misconfigured_servers_are_retried(error: Exception) -> None:
    assert isinstance(classify_smtp_error(error), TemporaryDeliveryError)


def test_a_message_the_server_rejects_for_good_is_permanent() -> None:
    error: DeliveryError = classify_smtp_error(aiosmtplib.SMTPDataError(554, "rejected"))

    assert isinstance(error, PermanentDeliveryError)
    assert str(error) == "554 rejected"


def test_no_smtp_host_means_mail_stays_queued() -> None:
    assert smtp_settings(Settings.model_validate({})) is None


def test_smtp_settings_read_starttls_login_and_attempts() -> None:
    settings = Settings.model_validate(
        {
            "INCENTIVES_SMTP_HOST": "mail.example",
            "INCENTIVES_SMTP_PORT": 587,
            "INCENTIVES_SMTP_STARTTLS": True,
            "INCENTIVES_SMTP_USERNAME": "mailer",
            "INCENTIVES_SMTP_PASSWORD": "secret",
            "INCENTIVES_MAIL_MAX_ATTEMPTS": 3,
        }
    )

    smtp = smtp_settings(settings)

    assert smtp == SmtpSettings(
        host="mail.example", port=587, starttls=True, username="mailer", password="secret", max_attempts=3
    )
    assert "secret" not in repr(smtp)
