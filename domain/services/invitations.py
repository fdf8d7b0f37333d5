"""Invitations and home-page notices."""

from __future__ import annotations

from sqlalchemy import select

from domain import audit
from domain.access import Action, Actor, Scope
from domain.audit import RunEvent
from domain.errors import Invalid, NotFound
from domain.fiscal import fiscal_year_of
from domain.jobs import DEFAULT_BATCH_SIZE, Job, ProgressCallback, Stopping, count, leased, run_in_batches
from domain.mail.messages import DEFAULT_PUBLIC_URL
from domain.mail.recipients import Recipients, load_recipients
from domain.model import Invitation, InvitationDismissal, Location, Program
from domain.queries import entities
from domain.services.guards import commit_or_conflict, program, require
from domain.services.invitation_batches import Issue, issue_batch
from domain.uow import UnitOfWork
from domain.users import remember_user
from domain.vocabulary import InvitationChannel


async def issue_invitations(
    uow: UnitOfWork,
    actor: Actor,
    *,
    program_id: int,
    fiscal_year: int | None = None,
    public_url: str = DEFAULT_PUBLIC_URL,
    progress: ProgressCallback | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    stopping: Stopping | None = None,
) -> int:
    """One invitation (with an INVITED enrollment) for `fiscal_year` (the current one, or the next;
    None: the current) per eligible location that has neither an invitation nor an enrollment that
    year (every location, for a program open to all): a location the roll-forward carried is not
    invited again (rule 16). Returns how many were created (0 when run again). Programs with
    criteria invite by email and home-page notice, open ones on the overview.

    Works over the locations in batches, each its own transaction, under a lease per program:
    a second run meanwhile gets `Conflict`, a run after a crash, or after `stopping` was requested
    (it ends after the batch in flight), resumes.
    """
    require(actor, Action.OPERATE)
    issue = await _prepare(uow, actor, program_id, fiscal_year, public_url)
    busy = busy_message(issue.program_name)
    locations = select(Location.id)
    async with leased(uow.sessions, uow.clock, f"invitations-{issue.program_id}", busy=busy) as lease:
        recipients = await _recipients(uow, issue)
        job = Job("invite", lease, busy, await count(uow.sessions, locations), progress, stopping)
        return await run_in_batches(
            uow.sessions, job, locations, batch_size, lambda batch: issue_batch(batch, issue, recipients)
        )


def busy_message(program_name: str) -> str:
    return f"invitations for {program_name} are already being issued"


async def _prepare(
    uow: UnitOfWork, actor: Actor, program_id: int, fiscal_year: int | None, public_url: str
) -> Issue:
    """The program must exist and be active, the year be the current or the next; what every batch
    needs about it."""
    current = fiscal_year_of(uow.clock.today())
    if fiscal_year is not None and fiscal_year not in (current, current + 1):
        raise Invalid(f"invitations are for FY {current} or FY {current + 1}", ["fiscalYear"])
    async with uow:
        chosen = await program(uow.session, program_id)
        if not chosen.is_active:
            raise Invalid("program is discontinued", ["programId"])
        now = uow.clock.now()
        # Built inside the unit of work: leaving it rolls back, and that expires `chosen`.
        return Issue(
            program_id=chosen.id,
            program_name=chosen.name,
            fiscal_year=current if fiscal_year is None else fiscal_year,
            criteria=frozenset((await entities.criteria_by_program(uow.session, [chosen.id]))[chosen.id]),
            now=now,
            audit=RunEvent(actor, "issueInvitations", now, "IncentiveProgram", chosen.id),
            public_url=public_url,
        )


async def _recipients(uow: UnitOfWork, issue: Issue) -> Recipients:
    """Everyone who may be written to, read once per run (open programs write to nobody)."""
    if issue.channel is not InvitationChannel.EMAIL:
        return Recipients()
    async with uow.sessions() as session:
        return await load_recipients(session)


async def dismiss_invitation(uow: UnitOfWork, actor: Actor, *, invitation_id: int) -> Invitation:
    """Hide a home-page notice for this caller only; enrolling stays possible."""
    async with uow:
        invitation = await _own_notice(uow, actor, invitation_id)
        user = await remember_user(uow.session, tenant_id=actor.tenant_id, object_id=actor.object_id)
        if await uow.session.get(InvitationDismissal, (invitation.id, user.id)) is None:
            uow.session.add(
                InvitationDismissal(
                    invitation_id=invitation.id, user_id=user.id, dismissed_at=uow.clock.now()
                )
            )
            location = await uow.session.get(Location, invitation.location_id)
            assert location is not None
            audit.record(uow, actor, "dismissInvitation", location.organization_id, invitation)
        await commit_or_conflict(uow, "the invitation was dismissed at the same time")
        return invitation


async def _own_notice(uow: UnitOfWork, actor: Actor, invitation_id: int) -> Invitation:
    """An invitation on the actor's home page; anyone else's is absent (it is not their notice)."""
    invitation = await uow.session.get(Invitation, invitation_id)
    location = None if invitation is None else await uow.session.get(Location, invitation.location_id)
    if invitation is None or location is None or location.organization_id != actor.organization_id:
        raise NotFound("invitation not found", ["invitationId"])
    scope = Scope(location.organization_id, location.id, invitation.program_id)
    if not actor.can(Action.INVITATION_NOTICES, scope):
        raise NotFound("invitation not found", ["invitationId"])
    return invitation


async def program_id_for_code(uow: UnitOfWork, code: str) -> int:
    """The id of the program with this code (the command line names programs by code)."""
    async with uow:
        found = await uow.session.scalar(select(Program.id).where(Program.code == code))
        if found is None:
            raise NotFound(f"no program has the code {code!r}", ["code"])
        return found
