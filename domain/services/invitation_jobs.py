"""Rule 24: invitations issued in the background, with no operator batch.

`createProgram` of an ACTIVE program with criteria, and the roll-forward for the new fiscal year,
leave an `invitation_jobs` row in their own transaction. Every server's worker runs the pending
rows through `issue_invitations` (the operator's batch: its lease per program lets one process work
on a program at a time, each batch writes its invitations and their outbox rows together), then
deletes the row. A crash leaves the row and the committed batches; the next round resumes, and
nothing is invited or emailed twice (one invitation per location, program and year).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import Actor
from domain.errors import Conflict, Invalid, NotFound
from domain.jobs import DEFAULT_BATCH_SIZE, Stopping
from domain.model import InvitationJob, Program
from domain.services.invitations import issue_invitations
from domain.storage import insert_ignoring_conflicts
from domain.uow import UnitOfWork
from domain.vocabulary import ProgramStatus

logger = logging.getLogger("incentives.invitations")


async def queue_invitation_job(
    session: AsyncSession, program_id: int, fiscal_year: int, now: datetime
) -> None:
    """In the caller's transaction: the program's invitations for the year are to be issued."""
    values = {"program_id": program_id, "fiscal_year": fiscal_year, "created_at": now}
    await session.execute(insert_ignoring_conflicts(session, InvitationJob).values(**values))


async def queue_new_year(uow: UnitOfWork, fiscal_year: int) -> None:
    """Every ACTIVE program's invitations for the new fiscal year (rules 24 and 25)."""
    async with uow:
        active = await uow.session.scalars(select(Program.id).where(Program.status == ProgramStatus.ACTIVE))
        for program_id in active.all():
            await queue_invitation_job(uow.session, program_id, fiscal_year, uow.clock.now())
        await uow.commit()


@dataclass(frozen=True)
class Issued:
    """What one job issued: `invited` invitations of `program_id` for `fiscal_year`."""

    program_id: int
    fiscal_year: int
    invited: int


async def run_invitation_jobs(
    uow: UnitOfWork,
    operator: Actor,
    *,
    public_url: str,
    batch_size: int = DEFAULT_BATCH_SIZE,
    stopping: Stopping | None = None,
) -> list[Issued]:
    """Issue the pending jobs' invitations; returns what each job made. A job whose program another
    process is issuing is left for the next round; so is the rest of one when `stopping` is
    requested (its committed batches stay, its lease is given back)."""
    async with uow.sessions() as session:
        pending = (await session.execute(select(InvitationJob.program_id, InvitationJob.fiscal_year))).all()
    issued: list[Issued] = []
    for program_id, fiscal_year in pending:
        try:
            invited = await issue_invitations(
                uow,
                operator,
                program_id=program_id,
                fiscal_year=fiscal_year,
                public_url=public_url,
                batch_size=batch_size,
                stopping=stopping,
            )
        except Conflict:
            continue  # another server holds this program's lease: it finishes the job
        except (Invalid, NotFound) as refused:  # discontinued meanwhile, or its year is over
            logger.info("invitations of program %d for FY %d dropped: %s", program_id, fiscal_year, refused)
            invited = 0
        issued.append(Issued(program_id, fiscal_year, invited))
        if stopping is not None and stopping.requested():
            break  # the job stays: the next round, here or in another process, resumes it
        await _done(uow, program_id, fiscal_year)
    return issued


async def _done(uow: UnitOfWork, program_id: int, fiscal_year: int) -> None:
    async with uow.sessions() as session, session.begin():
        await session.execute(
            delete(InvitationJob).where(
                InvitationJob.program_id == program_id, InvitationJob.fiscal_year == fiscal_year
            )
        )
