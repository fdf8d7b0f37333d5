"""Emails that follow a change to who covers a waiting invitation, or to an enrollment (rules 26-27):

- an Incentives admin assigned after the invitation gets its email, once (`queue_late_assignment`);
- when the last one covering it is revoked, the Global and Account admins are asked to assign one
  (`queue_last_admin_revoked`);
- a review's outcome goes to the covering Incentives admins with an address (`queue_review_outcome`).

Each is queued in the outbox in the transaction of the change, under a Message-ID that makes it
once: per (invitation, person), per revocation's audit event, per review's audit event.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import Grant
from domain.fiscal import fiscal_year_of
from domain.mail.messages import (
    Email,
    Invited,
    Reviewed,
    Wording,
    assigned_message_id,
    compose_invitation,
    outbox_row,
    review_email,
    unassigned_message_id,
)
from domain.mail.recipients import load_recipients
from domain.mail.texts import language_for_country
from domain.model import Enrollment, Invitation, Location, Organization, OutboxMessage, Program
from domain.storage import insert_ignoring_conflicts
from domain.uow import UnitOfWork
from domain.vocabulary import EnrollmentStatus, InvitationChannel


@dataclass(frozen=True)
class Waiting:
    """A current EMAIL invitation whose enrollment is still INVITED, with what its email needs."""

    invited: Invited
    location_id: int
    program_id: int
    language: str


async def queue_late_assignment(
    uow: UnitOfWork, organization_id: int, grant: Grant, user_id: int, address: str | None, public_url: str
) -> int:
    """The new Incentives admin gets each waiting invitation `grant` covers that was not already
    emailed to `address`; returns how many were queued."""
    if not address:
        return 0
    emailed = await _invitations_emailed_to(uow.session, address)
    emails = [
        _invitation_email(
            waiting, address, assigned_message_id(waiting.invited.invitation_id, user_id), public_url
        )
        for waiting in await waiting_invitations(uow, organization_id, grant)
        if waiting.invited.invitation_id not in emailed
    ]
    return await _queue(uow, organization_id, emails)


async def queue_last_admin_revoked(
    uow: UnitOfWork, organization_id: int, grant: Grant, revoked_event_id: int, public_url: str
) -> int:
    """After the revocation (already flushed), each waiting invitation `grant` covered that no
    Incentives admin covers any more: its Global and Account admins are asked to assign one."""
    recipients = await load_recipients(uow.session, organization_id)
    uncovered = [
        waiting
        for waiting in await waiting_invitations(uow, organization_id, grant)
        if not recipients.covering(organization_id, waiting.location_id, waiting.program_id)
    ]
    emails = [
        _invitation_email(
            waiting,
            address,
            unassigned_message_id(waiting.invited.invitation_id, revoked_event_id, n),
            public_url,
            Wording.NEEDS_ADMIN,
        )
        for waiting in uncovered
        for n, address in enumerate(recipients.org_admin_addresses(organization_id))
    ]
    return await _queue(uow, organization_id, emails)


async def queue_review_outcome(
    uow: UnitOfWork, enrollment: Enrollment, review_event_id: int, public_url: str
) -> int:
    """One email per covering Incentives admin with an address, in the organization's language."""
    session = uow.session
    statement = (
        select(Location, Organization.country, Program.name)
        .join(Organization, Organization.id == Location.organization_id)
        .join(Program, Program.id == enrollment.program_id)
        .where(Location.id == enrollment.location_id)
    )
    location, country, program_name = (await session.execute(statement)).one()
    reason = None if enrollment.status is EnrollmentStatus.ENROLLED else enrollment.action_required_reason
    reviewed = Reviewed(review_event_id, program_name, location.name, location.partner_id, reason)
    recipients = await load_recipients(session, location.organization_id)
    addresses = recipients.covering_addresses(location.organization_id, location.id, enrollment.program_id)
    language = language_for_country(country)
    emails = [
        review_email(reviewed, address, n, public_url=public_url, language=language)
        for n, address in enumerate(addresses)
    ]
    return await _queue(uow, location.organization_id, emails)


async def waiting_invitations(uow: UnitOfWork, organization_id: int, grant: Grant) -> list[Waiting]:
    """The organization's EMAIL invitations of the current fiscal year that `grant` covers and whose
    enrollment is still INVITED (one statement; the organization's are few)."""
    statement = (
        select(
            Invitation.id,
            Invitation.location_id,
            Invitation.program_id,
            Program.name,
            Location.name,
            Location.partner_id,
            Organization.migration_completed,
            Organization.country,
        )
        .join(Location, Location.id == Invitation.location_id)
        .join(Organization, Organization.id == Location.organization_id)
        .join(Program, Program.id == Invitation.program_id)
        .join(
            Enrollment,
            (Enrollment.location_id == Invitation.location_id)
            & (Enrollment.program_id == Invitation.program_id)
            & (Enrollment.fiscal_year == Invitation.fiscal_year),
        )
        .where(
            Location.organization_id == organization_id,
            Invitation.channel == InvitationChannel.EMAIL,
            Invitation.fiscal_year == fiscal_year_of(uow.clock.today()),
            Enrollment.status == EnrollmentStatus.INVITED,
        )
        .order_by(Invitation.id)
    )
    return [
        Waiting(
            Invited(row[0], *row[3:7]), row.location_id, row.program_id, language_for_country(row.country)
        )
        for row in await uow.session.execute(statement)
        if grant.covers(row.location_id, row.program_id)
    ]


def _invitation_email(
    waiting: Waiting, address: str, message_id: str, public_url: str, wording: Wording = Wording.INVITED
) -> Email:
    return compose_invitation(waiting.invited, address, wording, message_id, public_url, waiting.language)


async def _invitations_emailed_to(session: AsyncSession, address: str) -> set[int]:
    """The invitations any email of which went to `address` (at issue time or on an earlier
    assignment): "once" is per person, whatever assignment leads to them."""
    statement = select(OutboxMessage.message_id).where(
        OutboxMessage.message_id.like("<invitation-%"),
        func.lower(OutboxMessage.to_address) == address.lower(),
    )
    # `<invitation-12-...@incentives>`: the invitation's id is the second part.
    return {int(message_id.split("-")[1]) for message_id in await session.scalars(statement)}


async def _queue(uow: UnitOfWork, organization_id: int, emails: list[Email]) -> int:
    # ON CONFLICT on the unique Message-ID: a concurrent request queuing the same email loses quietly.
    if emails:
        now = uow.clock.now()
        rows = [outbox_row(email, organization_id, now) for email in emails]
        await uow.session.execute(insert_ignoring_conflicts(uow.session, OutboxMessage), rows)
    return len(emails)
