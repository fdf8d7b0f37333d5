"""The emails the service writes, as plain text and simple HTML in the partner's language: invitations
to enroll (to a location's Incentives admins, or asking the Global and Account admins to assign
one) and tax expiry reminders; and what every email shares: its rendering and its outbox row.

The words and the choice of language live in `domain.mail.texts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from html import escape
from typing import Any

from domain.mail.texts import ENGLISH, TEXTS, texts_for
from domain.vocabulary import OutboxStatus

INVITATION_SUBJECT = TEXTS[ENGLISH].subject
REMINDER_SUBJECT = TEXTS[ENGLISH].tax_reminder.subject
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Invited:
    """What an invitation email is about."""

    invitation_id: int
    program_name: str
    location_name: str
    partner_id: str
    migration_completed: bool = True


class Wording(Enum):
    """Which invitation body an address gets; the value names it in `Texts` (rule 26)."""

    INVITED = "invited"
    NEEDS_ADMIN = "needs_admin"
    ADMINS_WITHOUT_ADDRESS = "admins_without_address"


@dataclass(frozen=True)
class Email:
    message_id: str
    to_address: str
    subject: str
    body_text: str
    body_html: str
    language: str = ENGLISH


def message_id(invitation_id: int, n: int) -> str:
    """Stable and unique per message: `<invitation-12-0@incentives>` is invitation 12's first."""
    return f"<invitation-{invitation_id}-{n}@incentives>"


def get_started_url(public_url: str, invitation_id: int) -> str:
    # The console opens the invitation at this path (api/console.py), signed in or not yet.
    return f"{public_url.rstrip('/')}/console/invitations/{invitation_id}"


def invitation_email(
    invited: Invited, to_address: str, n: int, *, public_url: str, language: str = ENGLISH
) -> Email:
    """To an Incentives admin of the location: enroll it in the program."""
    return compose_invitation(
        invited, to_address, Wording.INVITED, message_id(invited.invitation_id, n), public_url, language
    )


def assign_admin_email(
    invited: Invited, to_address: str, n: int, *, public_url: str, language: str = ENGLISH
) -> Email:
    """To a Global or Account admin when nobody administers the location's incentives yet."""
    return compose_invitation(
        invited, to_address, Wording.NEEDS_ADMIN, message_id(invited.invitation_id, n), public_url, language
    )


def assigned_message_id(invitation_id: int, user_id: int) -> str:
    """The invitation's email to an Incentives admin assigned after it: one per (invitation, user)."""
    return f"<invitation-{invitation_id}-admin-{user_id}@incentives>"


def unassigned_message_id(invitation_id: int, revoked_event_id: int, n: int) -> str:
    """The n-th "assign one" email after the revocation audited as `revoked_event_id`."""
    return f"<invitation-{invitation_id}-unassigned-{revoked_event_id}-{n}@incentives>"


def with_contract_words(localized: str, english: str) -> str:
    """The localized words, followed by the contract's English ones when they differ.

    Invitations are promised with the subject "Partner Incentive Enrollment Invitation" and a "Get
    Started" link; receivers and their filters rely on those words, so a translation never replaces
    them.
    """
    return localized if localized == english else f"{localized} ({english})"


def compose_invitation(
    invited: Invited, to_address: str, wording: Wording, message_id: str, public_url: str, language: str
) -> Email:
    """An invitation email with the body `wording` names; the migration comes first when it is due."""
    localized, english = texts_for(language), TEXTS[ENGLISH]
    subject = with_contract_words(localized.subject, english.subject)
    get_started = with_contract_words(localized.get_started, english.get_started)
    intro = getattr(localized, wording.value).format(
        location=invited.location_name, partner_id=invited.partner_id, program=invited.program_name
    )
    if not invited.migration_completed:
        # Enrolling is refused until the migration is completed (PREREQUISITE_MISSING): say so first.
        intro = f"{localized.migration_first}\n\n{intro}"
    link = get_started_url(public_url, invited.invitation_id)
    text, html = render(intro, get_started, link, language)
    return Email(message_id, to_address, subject, text, html, language)


@dataclass(frozen=True)
class Reviewed:
    """What a review outcome email is about; `reason` is None when the enrollment was approved."""

    review_event_id: int
    program_name: str
    location_name: str
    partner_id: str
    reason: str | None


def review_message_id(review_event_id: int, n: int) -> str:
    """Once per review: `<review-31-0@incentives>` is the first email of the review audited as 31."""
    return f"<review-{review_event_id}-{n}@incentives>"


def review_email(reviewed: Reviewed, to_address: str, n: int, *, public_url: str, language: str) -> Email:
    """To an Incentives admin covering the enrollment: approved, or sent back with the reason."""
    words = texts_for(language).review
    approved = reviewed.reason is None
    body = words.enrolled if approved else words.action_required
    intro = body.format(
        location=reviewed.location_name,
        partner_id=reviewed.partner_id,
        program=reviewed.program_name,
        reason=reviewed.reason,
    )
    subject = words.enrolled_subject if approved else words.action_required_subject
    text, html = render(intro, words.open_console, f"{public_url.rstrip('/')}/console/", language)
    return Email(review_message_id(reviewed.review_event_id, n), to_address, subject, text, html, language)


@dataclass(frozen=True)
class Reminded:
    """What a reminder email is about."""

    tax_profile_id: int
    location_name: str
    partner_id: str
    expires_on: date


def reminder_message_id(tax_profile_id: int, n: int) -> str:
    """Stable and unique per message: `<tax-expiry-7-0@incentives>` is profile 7's first reminder."""
    return f"<tax-expiry-{tax_profile_id}-{n}@incentives>"


def update_tax_profile_url(public_url: str) -> str:
    return f"{public_url.rstrip('/')}/incentives/payout-and-tax"


def reminder_email(
    reminded: Reminded, to_address: str, n: int, *, public_url: str, language: str = ENGLISH
) -> Email:
    """To an Incentives admin of the location: set a new tax profile before `expires_on`.

    The date is ISO 8601 (2025-07-01) in every language: unambiguous wherever it is read.
    """
    words = texts_for(language).tax_reminder
    intro = words.body.format(
        location=reminded.location_name,
        partner_id=reminded.partner_id,
        expires_on=reminded.expires_on.isoformat(),
    )
    text, html = render(intro, words.update, update_tax_profile_url(public_url), language)
    return Email(
        reminder_message_id(reminded.tax_profile_id, n), to_address, words.subject, text, html, language
    )


def render(intro: str, action: str, link: str, language: str) -> tuple[str, str]:
    """An email's plain text and HTML: `intro`, a link labelled `action`, the signature of `language`."""
    signature = texts_for(language).signature
    text = f"{intro}\n\n{action}: {link}\n\n{signature}\n"
    # The language goes on the HTML part only: the outbox has no column for a Content-Language header.
    html = (
        f'<html lang="{language}"><body><p>{escape(intro)}</p>'
        f'<p><a href="{escape(link, quote=True)}">{escape(action)}</a></p>'
        f"<p>{escape(signature)}</p></body></html>"
    )
    return text, html


def outbox_row(email: Email, organization_id: int, now: datetime) -> dict[str, Any]:
    """`email` as a pending outbox row, for one bulk `insert(OutboxMessage)` of many."""
    return {
        "message_id": email.message_id,
        "organization_id": organization_id,
        "to_address": email.to_address,
        "subject": email.subject,
        "body_text": email.body_text,
        "body_html": email.body_html,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
