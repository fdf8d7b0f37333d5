"""Incentive programs and their criteria (operator side)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from domain.access import Action, Actor
from domain.errors import Conflict
from domain.fiscal import fiscal_year_of
from domain.model import Program, ProgramCriterion
from domain.services.guards import commit_or_conflict, flush_or_conflict, program, require
from domain.services.invitation_jobs import queue_invitation_job
from domain.uow import UnitOfWork
from domain.validation import Checks
from domain.vocabulary import CriterionKind, ProgramStatus

CODE_TAKEN = "a program with this code exists"


async def create_program(
    uow: UnitOfWork, actor: Actor, *, code: str, name: str, criteria: Sequence[CriterionKind]
) -> Program:
    """A new ACTIVE program; no criteria means open to all partners."""
    require(actor, Action.OPERATE)
    check = Checks()
    code = check.program_code(code)
    name = check.name(name, "name", max_length=200)
    check.done()
    async with uow:
        taken = select(func.count()).where(Program.code == code)
        if (await uow.session.execute(taken)).scalar_one():
            raise Conflict(CODE_TAKEN, ["code"])
        created = Program(code=code, name=name, status=ProgramStatus.ACTIVE, created_at=uow.clock.now())
        uow.session.add(created)
        await flush_or_conflict(uow, CODE_TAKEN, ["code"])
        kinds = dict.fromkeys(criteria)  # de-duplicated, in the order given
        uow.session.add_all(ProgramCriterion(program_id=created.id, kind=kind) for kind in kinds)
        if kinds:  # rule 24: its eligible locations are invited in the background (open ones: rule 7)
            year = fiscal_year_of(uow.clock.today())
            await queue_invitation_job(uow.session, created.id, year, created.created_at)
        await commit_or_conflict(uow, CODE_TAKEN, ["code"])
        return created


async def discontinue_program(uow: UnitOfWork, actor: Actor, *, program_id: int) -> Program:
    """The program is withdrawn; its enrollments keep their status and are shown DISCONTINUED."""
    require(actor, Action.OPERATE)
    async with uow:
        found = await program(uow.session, program_id)
        found.status = ProgramStatus.DISCONTINUED
        await uow.commit()
        return found
