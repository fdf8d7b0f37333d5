"""Tax profile expiry reminders: the location's Incentives admins hear once, ahead of time.

    queued = await queue_tax_expiry_reminders(uow, today=clock.today(), days=30)

Set-based and safe to run from several processes at once: one UPDATE ... RETURNING claims the
due profiles (a location's current profile expiring within `days`, not yet expired, never
reminded) by stamping `expiry_reminder_sent_at`, so a concurrent run finds nothing left to claim.
The recipients are read in one statement, the emails inserted in one, all in the claim's
transaction: a crash before the commit leaves the profiles unclaimed and no mail queued.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import exists, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from domain.mail.messages import DEFAULT_PUBLIC_URL, Reminded, outbox_row, reminder_email
from domain.mail.texts import language_for_country
from domain.model import Location, Organization, OutboxMessage, TaxProfile, User
from domain.queries import people
from domain.uow import UnitOfWork


@dataclass(frozen=True)
class DueProfile:
    """A claimed tax profile: whose it is and when it expires."""

    id: int
    location_id: int
    expires_on: date


async def queue_tax_expiry_reminders(
    uow: UnitOfWork, *, today: date, days: int, public_url: str = DEFAULT_PUBLIC_URL
) -> int:
    """Queue one email per Incentives admin (with an address) of each location whose current tax
    profile expires in 1 to `days` days and was never reminded; return how many were queued.

    A profile with no one to write to is marked reminded all the same: "once" means once.
    Each organization's admins are written to in the language its country suggests.
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
    located = await _locations_with_country(session, location_ids)
    rows = []
    for profile in due:
        location, country = located[profile.location_id]
        reminded = Reminded(profile.id, location.name, location.partner_id, profile.expires_on)
        language = language_for_country(country)
        for n, address in enumerate(_addresses(admins[profile.location_id])):
            email = reminder_email(reminded, address, n, public_url=public_url, language=language)
            rows.append(outbox_row(email, location.organization_id, now))
    return rows


async def _locations_with_country(
    session: AsyncSession, location_ids: Iterable[int]
) -> dict[int, tuple[Location, str]]:
    """Each location with its organization's country (which decides the language), in one statement."""
    statement = (
        select(Location, Organization.country)
        .join(Organization, Organization.id == Location.organization_id)
        .where(Location.id.in_(sorted(set(location_ids))))
    )
    return {location.id: (location, country) for location, country in await session.execute(statement)}


def _addresses(users: Sequence[User]) -> list[str]:
    # One email per address, however many assignments (or user rows) lead to it.
    distinct = {user.email.lower(): user.email for user in users if user.email}
    return sorted(distinct.values(), key=str.lower)
