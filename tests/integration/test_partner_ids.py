from __future__ import annotations

import asyncio

import pytest

from domain.errors import Conflict
from domain.model import Location, Organization
from domain.partner_ids import FIRST_PARTNER_ID, allocate_partner_ids
from domain.services import organizations
from tests.support import actors
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


async def register(world: World, global_partner_id: str) -> Organization:
    return await organizations.register_organization(
        world.uow(),
        actors.global_admin(actors.new_guid()),
        legal_name=f"Chosen {global_partner_id}",
        country="US",
        global_partner_id=global_partner_id,
        migration_completed=True,
    )


async def test_a_chosen_global_partner_id_may_not_be_a_locations(world: World) -> None:
    org = await world.organization()
    location_id = await world.location(org)
    (location,) = await world.rows(Location, Location.id == location_id)
    with pytest.raises(Conflict) as refused:
        await register(world, location.partner_id)
    assert refused.value.problems[0].field == ("globalPartnerId",)
    assert await world.count(Organization) == 1


async def test_a_location_never_gets_a_global_partner_id_an_organization_chose(world: World) -> None:
    org = await world.organization()  # takes FIRST_PARTNER_ID
    chosen = [str(FIRST_PARTNER_ID + n) for n in (1, 2)]
    for partner_id in chosen:
        await register(world, partner_id)
    location_id = await world.location(org)
    (location,) = await world.rows(Location, Location.id == location_id)
    assert location.partner_id == str(FIRST_PARTNER_ID + 3)


async def test_claims_and_allocations_at_once_never_share_an_id(world: World) -> None:
    """Organizations claiming the next IDs while locations are added: whoever comes first has the
    ID; a claim that comes second is refused, and no ID is ever held twice."""
    org = await world.organization()
    chosen = [str(FIRST_PARTNER_ID + n) for n in range(1, 7)]
    results = await asyncio.gather(
        *(register(world, partner_id) for partner_id in chosen),
        *(world.location(org, f"Site {n}") for n in range(6)),
        return_exceptions=True,
    )
    claims, added = results[:6], results[6:]
    assert all(isinstance(location_id, int) for location_id in added)
    refused = [
        partner_id for partner_id, claim in zip(chosen, claims, strict=True) if isinstance(claim, Conflict)
    ]
    assert not [
        claim for claim in claims if isinstance(claim, BaseException) and not isinstance(claim, Conflict)
    ]
    globals_ = [org.global_partner_id for org in await world.rows(Organization)]
    locations = [location.partner_id for location in await world.rows(Location)]
    assert len(set(globals_ + locations)) == len(globals_) + len(locations) == 13 - len(refused)
