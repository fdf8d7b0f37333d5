"""Tax profile expiry reminders (issue 4): the location's Incentives admins hear once, ahead of time.

    queued = await queue_tax_expiry_reminders(uow, today=clock.today(), days=30)

Set-based and safe to run from several processes at once: one UPDATE ... RETURNING claims the
due profiles (a location's current profile expiring within `days`, not yet expired, never
reminded) by stamping `expiry_reminder_sent_at`, so a concurrent run finds nothing left to claim.
The recipients are read in one statement, the emails inserted in one, all in the claim's
transaction: a crash before the commit leaves the profiles unclaimed and no mail queued.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape
from typing import Any

from sqlalchemy import exists, insert, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from domain.mail import DEFAULT_PUBLIC_URL
from domain.model import Location, OutboxMessage, TaxProfile, User
from domain.queries import entities, people
from domain.uow import UnitOfWork
from domain.vocabulary import OutboxStatus

SUBJECT = "Your tax profile expires soon"


@dataclass(frozen=True)
class DueProfile:
    """A claimed tax profile: whose it is and when it expires."""

    id: int
    location_id: int
    expires_on: date


def message_id(tax_profile_id: int, n: int) -> str:
    """Stable and unique per message: `<tax-expiry-7-0@incentives>` is profile 7's first reminder."""
    return f"<tax-expiry-{tax_profile_id}-{n}@incentives>"


async def queue_tax_expiry_reminders(
    uow: UnitOfWork, *, today: date, days: int, public_url: str = DEFAULT_PUBLIC_URL
) -> int:
    """Queue one email per Incentives admin (with an address) of each location whose current tax
    profile expires in 1 to `days` days and was never reminded; return how many were queued.

    A profile with no one to write to is marked reminded all the same: "once" means once.
    """
    async with uow:
        due = await _claim_due(uow.session, today=today, days=days, now=uow.clock.now())
        if not due:
            return 0
        rows = await _reminder_rows(uow.session, due, uow.clock.now(), public_url)
        if rows:
            await uow.session.execute(insert(OutboxMessage), rows)
        await uow.commit()
        return len(rows)


async def _claim_due(session: AsyncSession, *, today: date, days: int, now: datetime) -> list[DueProfile]:
    newer = aliased(TaxProfile)
    claim = (
        update(TaxProfile)
        .where(
            TaxProfile.expiry_reminder_sent_at.is_(None),
            TaxProfile.expires_on > today,
            TaxProfile.expires_on <= today + timedelta(days=days),
            # Only a location's current (newest) profile: a superseded one no longer matters.
            ~exists().where(newer.location_id == TaxProfile.location_id, newer.id > TaxProfile.id),
        )
        .values(expiry_reminder_sent_at=now)
        .returning(TaxProfile.id, TaxProfile.location_id, TaxProfile.expires_on)
        .execution_options(synchronize_session=False)
    )
    claimed = await session.execute(claim)
    return sorted((DueProfile(*row) for row in claimed), key=lambda profile: profile.id)


async def _reminder_rows(
    session: AsyncSession, due: Sequence[DueProfile], now: datetime, public_url: str
) -> list[dict[str, Any]]:
    location_ids = {profile.location_id for profile in due}
    admins = await people.incentive_admins_by_location(session, location_ids)
    locations = await entities.by_ids(session, Location, location_ids)
    rows = []
    for profile in due:
        location = locations[profile.location_id]
        for n, address in enumerate(_addresses(admins[profile.location_id])):
            rows.append(_outbox_row(profile, location, address, n, now, public_url))
    return rows


def _addresses(users: Sequence[User]) -> list[str]:
    # One email per address, however many assignments (or user rows) lead to it.
    distinct = {user.email.lower(): user.email for user in users if user.email}
    return sorted(distinct.values(), key=str.lower)


def _outbox_row(
    profile: DueProfile, location: Location, address: str, n: int, now: datetime, public_url: str
) -> dict[str, Any]:
    text, html = reminder_body(location.name, location.partner_id, profile.expires_on, public_url)
    return {
        "message_id": message_id(profile.id, n),
        "organization_id": location.organization_id,
        "to_address": address,
        "subject": SUBJECT,
        "body_text": text,
        "body_html": html,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def reminder_body(location_name: str, partner_id: str, expires_on: date, public_url: str) -> tuple[str, str]:
    """The reminder as plain text and HTML."""
    intro = (
        f"The tax profile of your location {location_name} (PartnerID {partner_id}) expires on "
        f"{expires_on.isoformat()}. Set a new tax profile before then: once it has expired, the "
        "location's enrollments need action and earnings may be held."
    )
    link = f"{public_url.rstrip('/')}/incentives/payout-and-tax"
    text = f"{intro}\n\nUpdate the tax profile: {link}\n\nMicrosoft Partner Center\n"
    html = (
        f"<html><body><p>{escape(intro)}</p>"
        f'<p><a href="{escape(link, quote=True)}">Update the tax profile</a></p>'
        "<p>Microsoft Partner Center</p></body></html>"
    )
    return text, html
