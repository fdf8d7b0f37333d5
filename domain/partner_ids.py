"""PartnerIDs: digits handed out from one counter row, so global and location IDs never clash."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.model import PartnerIdCounter
from domain.storage import insert_if_absent

COUNTER = "partner"
FIRST_PARTNER_ID = 1000001


async def allocate_partner_ids(session: AsyncSession, count: int = 1) -> list[str]:
    """`count` fresh PartnerIDs, e.g. `["1000001"]`; the counter row is created on first use."""
    if count < 1:
        return []
    next_value = await _advance(session, count)
    if next_value is None:
        await _create_counter(session)
        next_value = await _advance(session, count)
    assert next_value is not None, "the counter row exists now"
    return [str(value) for value in range(next_value - count, next_value)]


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
