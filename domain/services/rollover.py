"""The fiscal-year roll-forward (contract rule 12)."""

from __future__ import annotations

from dataclasses import dataclass

from domain.access import Actor
from domain.uow import UnitOfWork


@dataclass(frozen=True)
class RolloverResult:
    carried: int  # ENROLLED in N+1
    action_required: int  # eligible, but the tax profile is not valid on July 1
    ineligible: int  # no longer eligible
    inactive: int  # the program was discontinued


async def roll_over_fiscal_year(uow: UnitOfWork, actor: Actor, *, from_fiscal_year: int) -> RolloverResult:
    raise NotImplementedError
