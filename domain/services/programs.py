"""Incentive programs and their criteria (operator side)."""

from __future__ import annotations

from collections.abc import Sequence

from domain.access import Actor
from domain.model import Program
from domain.uow import UnitOfWork
from domain.vocabulary import CriterionKind


async def create_program(
    uow: UnitOfWork, actor: Actor, *, code: str, name: str, criteria: Sequence[CriterionKind]
) -> Program:
    raise NotImplementedError


async def discontinue_program(uow: UnitOfWork, actor: Actor, *, program_id: int) -> Program:
    raise NotImplementedError
