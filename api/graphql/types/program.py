"""Incentive programs (visible to every signed-in caller)."""

from __future__ import annotations

from collections.abc import Sequence

from api.graphql.declared import Asked, Reading, Row
from api.graphql.fields import batch, column
from api.graphql.types.base import Node, node_type
from domain import model as models
from domain.queries import entities
from domain.vocabulary import CriterionKind, ProgramStatus


async def criteria_of(reading: Reading, programs: Sequence[Row], asked: Asked) -> list[list[CriterionKind]]:
    found = await entities.criteria_by_program(reading.session, [program.id for program in programs])
    return [found[program.id] for program in programs]


async def open_to_all(reading: Reading, programs: Sequence[Row], asked: Asked) -> list[bool]:
    return [not criteria for criteria in await criteria_of(reading, programs, asked)]


@node_type("An incentive program and its eligibility criteria.", None, table=models.Program.__table__)
class IncentiveProgram(Node):
    code: str = column("The program code: 2-32 of A-Z, 0-9, '_' and '-', unique.")
    name: str = column("The program's name.")
    status: ProgramStatus = column("Whether the program is still offered.")
    open_to_all_partners: bool = batch(open_to_all, "True: the program has no eligibility criteria.")
    criteria: list[CriterionKind] = batch(criteria_of, "Every criterion a location must meet to be eligible.")
