"""One batch of invitation issuing: a constant number of statements per batch.

Over a range of location ids: one `INSERT ... SELECT` of the invitations (eligibility in SQL,
only where there is none yet), one of the INVITED enrollments (where there is none this year),
one audit `INSERT ... SELECT DISTINCT`, and for EMAIL programs one read of the new invitations
as compact tuples and one bulk insert of the composed outbox rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.audit import RunEvent, record_organizations
from domain.eligibility_sql import meets_criteria
from domain.mail.messages import Email, Invited, Wording, compose_invitation, message_id, outbox_row
from domain.mail.recipients import Recipients
from domain.mail.texts import language_for_country
from domain.model import Enrollment, Invitation, Location, Organization, OutboxMessage, UtcDateTime
from domain.storage import insert_ignoring_conflicts
from domain.vocabulary import CriterionKind, EnrollmentStatus, InvitationChannel


@dataclass(frozen=True)
class Issue:
    """What every batch of one issuing run needs."""

    program_id: int
    program_name: str
    fiscal_year: int
    criteria: frozenset[CriterionKind]
    now: datetime
    audit: RunEvent
    public_url: str

    @property
    def channel(self) -> InvitationChannel:
        return InvitationChannel.EMAIL if self.criteria else InvitationChannel.OVERVIEW


class Locations(Protocol):
    """Which locations a batch covers (a range of ids, or one organization's), in its session."""

    @property
    def session(self) -> AsyncSession: ...

    def covers(self, column: SQLColumnExpression[Any]) -> ColumnElement[bool]: ...


async def issue_batch(batch: Locations, issue: Issue, recipients: Recipients) -> int:
    """Invite the batch's eligible, uninvited locations; returns how many were invited."""
    session = batch.session
    before = int(await session.scalar(select(func.coalesce(func.max(Invitation.id), 0))) or 0)
    new = (
        Invitation.id > before,
        Invitation.program_id == issue.program_id,
        Invitation.fiscal_year == issue.fiscal_year,
    )
    # ON CONFLICT DO NOTHING on the unique (location, program, year): what exists is kept.
    invitations = ["program_id", "location_id", "fiscal_year", "channel", "created_at"]
    await session.execute(
        insert_ignoring_conflicts(session, Invitation).from_select(invitations, _eligible(batch, issue))
    )
    enrollments = ["location_id", "program_id", "fiscal_year", "status", "created_at", "updated_at"]
    await session.execute(
        insert_ignoring_conflicts(session, Enrollment).from_select(enrollments, _invited(issue, new))
    )
    organizations = select(Location.organization_id).join(Invitation, Invitation.location_id == Location.id)
    await record_organizations(session, issue.audit, organizations.where(*new))
    if issue.channel is InvitationChannel.EMAIL:
        return await _queue_emails(session, issue, recipients, new)
    return int(await session.scalar(select(func.count()).select_from(Invitation).where(*new)) or 0)


def _eligible(batch: Locations, issue: Issue) -> Select[*tuple[Any, ...]]:
    """The batch's eligible locations without an enrollment that year (rule 16: one the roll-forward
    carried is not invited again), as invitation rows; those invited already are skipped by ON
    CONFLICT on the unique (location, program, year): a NOT EXISTS on the invitations was planned
    as a scan of the program's invitations per row once they outgrew the statistics mid-run. The
    enrollments' NOT EXISTS is a probe of their unique (location, program, year) index (kept so by
    an OFFSET 0, below)."""
    # OFFSET 0 keeps PostgreSQL from turning the NOT EXISTS into an anti-join: planned when the
    # program had no enrollments that year (estimated at one row), that join compared every location
    # with every enrollment the earlier batches had just made, 100,000,000 comparisons by the second
    # batch (27 s for 100,000 locations); as a subplan it is one probe of the unique index per row.
    # An INVITED enrollment does not keep its location out: one that regained eligibility (rule 24,
    # INELIGIBLE after a roll-forward, then eligible again) has no invitation yet and gets it here.
    enrolled = (
        select(Enrollment.id)
        .where(
            Enrollment.location_id == Location.id,
            Enrollment.program_id == issue.program_id,
            Enrollment.fiscal_year == issue.fiscal_year,
            Enrollment.status != EnrollmentStatus.INVITED,
        )
        .offset(0)
        .exists()
    )
    return (
        select(
            literal(issue.program_id),
            Location.id,
            literal(issue.fiscal_year),
            literal(issue.channel, Invitation.channel.type),
            literal(issue.now, UtcDateTime()),
        )
        .join(Organization, Organization.id == Location.organization_id)
        .where(batch.covers(Location.id), meets_criteria(issue.criteria), ~enrolled)
    )


def _invited(issue: Issue, new: tuple[ColumnElement[bool], ...]) -> Select[*tuple[Any, ...]]:
    """INVITED enrollments for the new invitations; ON CONFLICT keeps any of this year as it is."""
    now = literal(issue.now, UtcDateTime())
    return select(
        Invitation.location_id,
        literal(issue.program_id),
        literal(issue.fiscal_year),
        literal(EnrollmentStatus.INVITED, Enrollment.status.type),
        now,
        now,
    ).where(*new)


async def _queue_emails(
    session: AsyncSession, issue: Issue, recipients: Recipients, new: tuple[ColumnElement[bool], ...]
) -> int:
    """The email goes to the Incentives admins covering (location, program) and to the Global and
    Account admins (rule 17; see `Recipients.for_invitation`)."""
    statement = (
        select(
            Invitation.id,
            Location.id,
            Location.organization_id,
            Location.name,
            Location.partner_id,
            Organization.country,
            Organization.migration_completed,
        )
        .join(Location, Location.id == Invitation.location_id)
        .join(Organization, Organization.id == Location.organization_id)
        .where(*new)
    )
    invited = (await session.execute(statement)).all()
    messages = [
        outbox_row(email, organization_id, issue.now)
        for invitation_id, location_id, organization_id, name, partner_id, country, migrated in invited
        for email in _emails(
            Invited(invitation_id, issue.program_name, name, partner_id, migrated),
            recipients.for_invitation(organization_id, location_id, issue.program_id),
            language_for_country(country),
            issue.public_url,
        )
    ]
    if messages:
        # executemany of a plain INSERT: one statement, batched by the driver on both backends.
        await session.execute(insert(OutboxMessage), messages)
    return len(invited)


def _emails(
    invited: Invited, addressed: list[tuple[str, Wording]], language: str, public_url: str
) -> list[Email]:
    return [
        compose_invitation(
            invited, address, wording, message_id(invited.invitation_id, n), public_url, language
        )
        for n, (address, wording) in enumerate(addressed)
    ]
