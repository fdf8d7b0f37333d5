"""The audit trail of an organization's data (contract rule 13): who did what, when, to what."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import Actor
from domain.clock import Clock
from domain.model import AuditEvent


def record(
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    *,
    organization_id: int,
    action: str,
    target_kind: str | None = None,
    target_key: int | None = None,
) -> AuditEvent:
    """Append one event, e.g. `record(..., action="addLocation", target_kind="Location", target_key=7)`."""
    event = AuditEvent(
        organization_id=organization_id,
        at=clock.now(),
        actor_tenant_id=actor.tenant_id,
        actor_object_id=actor.object_id,
        action=action,
        target_kind=target_kind,
        target_key=target_key,
    )
    session.add(event)
    return event


async def record_many(
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    *,
    organization_ids: Sequence[int],
    action: str,
    target_kind: str | None = None,
    target_key: int | None = None,
) -> None:
    """The same event for many organizations, in one INSERT (for the operator's batch mutations)."""
    if not organization_ids:
        return
    common = {
        "at": clock.now(),
        "actor_tenant_id": actor.tenant_id,
        "actor_object_id": actor.object_id,
        "action": action,
        "target_kind": target_kind,
        "target_key": target_key,
    }
    await session.execute(insert(AuditEvent), [{**common, "organization_id": i} for i in organization_ids])
