from __future__ import annotations

import asyncio

from domain.partner_ids import FIRST_PARTNER_ID, allocate_partner_ids
from tests.support.world import World


async def allocate(world: World, count: int) -> list[str]:
    async with world.uow() as uow:
        ids = await allocate_partner_ids(uow.session, count)
        await uow.commit()
        return ids


async def test_partner_ids_count_up_from_1000001(world: World) -> None:
    assert await allocate(world, 1) == [str(FIRST_PARTNER_ID)]
    assert await allocate(world, 3) == [str(FIRST_PARTNER_ID + n) for n in (1, 2, 3)]


async def test_concurrent_allocations_never_share_an_id(world: World) -> None:
    batches = await asyncio.gather(*(allocate(world, 2) for _ in range(5)))
    ids = [partner_id for batch in batches for partner_id in batch]
    assert len(set(ids)) == 10
    assert all(partner_id.isdigit() for partner_id in ids)


async def test_an_abandoned_allocation_is_not_kept(world: World) -> None:
    async with world.uow() as uow:
        await allocate_partner_ids(uow.session, 5)
    assert await allocate(world, 1) == [str(FIRST_PARTNER_ID)]
