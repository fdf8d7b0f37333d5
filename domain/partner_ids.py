"""PartnerIDs: digits handed out from one counter row, so global and location IDs never clash.

An organization may also bring its own global PartnerID. Claiming one takes the counter row's lock
first, so a claim and an allocation never run at once: a claimed ID is refused when any organization
or location holds it, and an allocation skips any ID an organization claimed.
"""

from __future__ import annotations

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import Conflict
from domain.model import Location, Organization, PartnerIdCounter
from domain.storage import insert_if_absent

COUNTER = "partner"
FIRST_PARTNER_ID = 1000001


async def allocate_partner_ids(session: AsyncSession, count: int = 1, *, lock: bool = False) -> list[str]:
    """`count` fresh PartnerIDs, e.g. `["1000001"]`; the counter row is created on first use.

    With `lock` and a count of 0 it only takes the counter's lock, for the transaction's length."""
    if count < 1 and not lock:
        return []
    next_value = await _advance(session, count)
    if next_value is None:
        await _create_counter(session)
        next_value = await _advance(session, count)
    assert next_value is not None, "the counter row exists now"
    return [str(value) for value in range(next_value - count, next_value)]


async def allocate_free_partner_id(session: AsyncSession) -> str:
    """A fresh PartnerID that no organization has claimed for itself."""
    while True:
        (candidate,) = await allocate_partner_ids(session)
        if not await partner_id_taken(session, candidate):
            return candidate


async def claim_partner_id(session: AsyncSession, requested: str, field: list[str]) -> str:
    """`requested` as a new organization's own global PartnerID; CONFLICT when any organization or
    location holds it (the counter's lock held until commit, so no allocation hands it out meanwhile)."""
    await allocate_partner_ids(session, 0, lock=True)
    if await partner_id_taken(session, requested):
        raise Conflict("this PartnerID is taken", field)
    return requested


async def partner_id_taken(session: AsyncSession, partner_id: str) -> bool:
    """Whether an organization (global) or a location holds `partner_id`."""
    statement = select(
        exists().where(Organization.global_partner_id == partner_id)
        | exists().where(Location.partner_id == partner_id)
    )
    return bool((await session.execute(statement)).scalar_one())


async def _advance(session: AsyncSession, count: int) -> int | None:
    statement = (
        update(PartnerIdCounter)
        .where(PartnerIdCounter.name == COUNTER)
        .values(next_value=PartnerIdCounter.next_value + count)
        .returning(PartnerIdCounter.next_value)
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def _create_counter(session: AsyncSession) -> None:
    # A concurrent transaction may create the row first; then we count on from its value.
    row = {"name": COUNTER, "next_value": FIRST_PARTNER_ID}
    await insert_if_absent(session, PartnerIdCounter, row)
