"""Rule 18: eligibility follows the agreements and the designation, in the same transaction.

When `recordAgreement` or `setSolutionsPartnerDesignation` changes an organization's standing, for
each ACTIVE program with criteria and the current fiscal year:

1. its locations that no longer qualify have their enrollments still in progress (INVITED,
   ACTION_REQUIRED, VALIDATING_ENROLLMENT) set to INELIGIBLE; an ENROLLED one stays to the year's end;
2. those that qualify again have their INELIGIBLE enrollments back at INVITED, and the notice shows
   again on the home page of whoever had dismissed it;
3. those newly eligible, with neither invitation nor enrollment that year, are invited as the
   operator's batch would (INVITED enrollment, email, home-page notice; rules 7 and 17).

A constant number of statements per program, whatever the number of locations (set-based SQL).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, SQLColumnExpression, delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import Actor
from domain.audit import RunEvent
from domain.eligibility_sql import meets_criteria_of
from domain.fiscal import fiscal_year_of
from domain.mail.recipients import load_recipients
from domain.model import (
    Enrollment,
    Invitation,
    InvitationDismissal,
    Location,
    Organization,
    Program,
    ProgramCriterion,
)
from domain.queries import entities
from domain.services.invitation_batches import Issue, issue_batch
from domain.uow import UnitOfWork
from domain.vocabulary import EnrollmentStatus, ProgramStatus

IN_PROGRESS = (
    EnrollmentStatus.INVITED,
    EnrollmentStatus.ACTION_REQUIRED,
    EnrollmentStatus.VALIDATING_ENROLLMENT,
)


@dataclass(frozen=True)
class OrganizationLocations:
    """The locations of one organization, as a batch of `issue_batch` (in the caller's transaction)."""

    session: AsyncSession
    organization_id: int

    def covers(self, column: SQLColumnExpression[Any]) -> ColumnElement[bool]:
        return column.in_(select(Location.id).where(Location.organization_id == self.organization_id))


async def follow_eligibility(uow: UnitOfWork, actor: Actor, organization_id: int, *, public_url: str) -> int:
    """Apply rule 18 to the organization in `uow`'s open transaction; returns how many were invited."""
    session = uow.session
    await session.flush()  # the new agreement or designation must be seen by the SQL below
    programs = (
        await session.execute(
            select(Program.id, Program.name)
            .where(
                Program.status == ProgramStatus.ACTIVE,
                exists().where(ProgramCriterion.program_id == Program.id),
            )
            .order_by(Program.id)
        )
    ).all()
    if not programs:
        return 0
    now, year = uow.clock.now(), fiscal_year_of(uow.clock.today())
    program_ids = [program_id for program_id, _ in programs]
    await _lose(session, organization_id, program_ids, year, now)
    await _regain(session, organization_id, program_ids, year, now)
    criteria = await entities.criteria_by_program(session, program_ids)
    recipients = await load_recipients(session, organization_id)
    locations = OrganizationLocations(session, organization_id)
    invited = 0
    for program_id, name in programs:
        issue = Issue(
            program_id=program_id,
            program_name=name,
            fiscal_year=year,
            criteria=frozenset(criteria[program_id]),
            now=now,
            audit=RunEvent(actor, "issueInvitations", now, "IncentiveProgram", program_id),
            public_url=public_url,
        )
        invited += await issue_batch(locations, issue, recipients)
    return invited


def _of_the_organization(organization_id: int, *, qualifying: bool) -> ColumnElement[bool]:
    """The enrollment's location belongs to the organization and does (not) meet the criteria of the
    enrollment's program: an EXISTS on that one location (its primary key), not a list of them per
    row, which SQLite re-evaluated for every enrollment."""
    meets = meets_criteria_of(Enrollment.program_id)
    return (
        select(Location.id)
        .join(Organization, Organization.id == Location.organization_id)
        .where(
            Location.id == Enrollment.location_id,
            Location.organization_id == organization_id,
            meets if qualifying else ~meets,
        )
        .correlate(Enrollment)
        .exists()
    )


async def _lose(
    session: AsyncSession, organization_id: int, program_ids: list[int], year: int, now: datetime
) -> None:
    await session.execute(
        update(Enrollment)
        .where(
            Enrollment.fiscal_year == year,
            Enrollment.program_id.in_(program_ids),
            Enrollment.status.in_(IN_PROGRESS),
            _of_the_organization(organization_id, qualifying=False),
        )
        .values(status=EnrollmentStatus.INELIGIBLE, updated_at=now, version=Enrollment.version + 1)
        .execution_options(synchronize_session=False)
    )


async def _regain(
    session: AsyncSession, organization_id: int, program_ids: list[int], year: int, now: datetime
) -> None:
    await session.execute(
        update(Enrollment)
        .where(
            Enrollment.fiscal_year == year,
            Enrollment.program_id.in_(program_ids),
            Enrollment.status == EnrollmentStatus.INELIGIBLE,
            _of_the_organization(organization_id, qualifying=True),
        )
        .values(
            status=EnrollmentStatus.INVITED,
            action_required_reason=None,
            updated_at=now,
            version=Enrollment.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    # A new notice: whoever dismissed the invitation sees it again.
    returned = (
        select(Invitation.id)
        .join(
            Enrollment,
            (Enrollment.location_id == Invitation.location_id)
            & (Enrollment.program_id == Invitation.program_id)
            & (Enrollment.fiscal_year == Invitation.fiscal_year),
        )
        .join(Location, Location.id == Invitation.location_id)
        .where(
            Location.organization_id == organization_id,
            Invitation.fiscal_year == year,
            Enrollment.status == EnrollmentStatus.INVITED,
            Enrollment.updated_at == now,
        )
    )
    await session.execute(
        delete(InvitationDismissal)
        .where(InvitationDismissal.invitation_id.in_(returned))
        .execution_options(synchronize_session=False)
    )
