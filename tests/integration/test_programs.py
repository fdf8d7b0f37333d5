from __future__ import annotations

import pytest

from domain.errors import Conflict, Forbidden, Invalid, NotFound
from domain.model import Program, ProgramCriterion
from domain.services import programs
from domain.vocabulary import CriterionKind, ProgramStatus
from tests.support import actors
from tests.support.world import World


async def test_operator_creates_a_program_with_deduplicated_criteria(world: World) -> None:
    created = await programs.create_program(
        world.uow(),
        world.operator,
        code="CSP-2027",
        name=" CSP Growth ",
        criteria=[CriterionKind.RESELLER_AGREEMENT, CriterionKind.RESELLER_AGREEMENT],
    )
    assert (created.code, created.name, created.status) == ("CSP-2027", "CSP Growth", ProgramStatus.ACTIVE)
    assert [c.kind for c in await world.rows(ProgramCriterion)] == [CriterionKind.RESELLER_AGREEMENT]


async def test_partners_cannot_create_programs(world: World) -> None:
    org = await world.organization()
    with pytest.raises(Forbidden):
        await programs.create_program(world.uow(), org.global_admin, code="CSP", name="CSP", criteria=[])
    assert await world.count(Program) == 0


async def test_program_codes_are_validated_and_unique(world: World) -> None:
    await world.program("CSP")
    with pytest.raises(Conflict):
        await world.program("CSP")
    with pytest.raises(Invalid) as raised:
        await programs.create_program(world.uow(), world.operator, code="csp", name="", criteria=[])
    assert {p.field for p in raised.value.problems} == {("code",), ("name",)}
    assert await world.count(Program) == 1


async def test_discontinuing_is_operator_only_and_idempotent(world: World) -> None:
    program_id = await world.program()
    org = await world.organization()
    with pytest.raises(Forbidden):
        await programs.discontinue_program(world.uow(), org.global_admin, program_id=program_id)
    with pytest.raises(NotFound):
        await programs.discontinue_program(world.uow(), world.operator, program_id=999)
    for _ in range(2):
        stopped = await programs.discontinue_program(world.uow(), world.operator, program_id=program_id)
        assert stopped.status is ProgramStatus.DISCONTINUED


async def test_stranger_cannot_discontinue(world: World) -> None:
    program_id = await world.program()
    with pytest.raises(Forbidden):
        await programs.discontinue_program(world.uow(), actors.stranger(), program_id=program_id)
