"""Incentive programs (visible to every signed-in caller)."""

from __future__ import annotations

from typing import Self

import strawberry

from api.graphql.ids import to_global_id
from api.graphql.types.base import Info, Node, field, object_type
from domain import model as models
from domain.vocabulary import CriterionKind, ProgramStatus


@object_type("An incentive program and its eligibility criteria.", None)
class IncentiveProgram(Node):
    model: strawberry.Private[models.Program]

    @classmethod
    def from_model(cls, program: models.Program) -> Self:
        return cls(id=to_global_id("IncentiveProgram", program.id), model=program)

    @field("The program code: 2-32 of A-Z, 0-9, '_' and '-', unique.")
    def code(self) -> str:
        return self.model.code

    @field("The program's name.")
    def name(self) -> str:
        return self.model.name

    @field("Whether the program is still offered.")
    def status(self) -> ProgramStatus:
        return self.model.status

    @field("True: the program has no eligibility criteria.")
    async def open_to_all_partners(self, info: Info) -> bool:
        return not await info.context.loaders.criteria.load(self.model.id)

    @field("Every criterion a location must meet to be eligible.")
    async def criteria(self, info: Info) -> list[CriterionKind]:
        return await info.context.loaders.criteria.load(self.model.id)
