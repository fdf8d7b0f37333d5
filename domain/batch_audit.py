"""The audit trail of a batch job (contract rule 13): one event per organization per run.

A run writes in many transactions, so each batch adds the events of the organizations it touched
that the run has not recorded yet. A run is known by its actor, action and start time (`at`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from domain.access import Actor
from domain.model import AuditEvent, UtcDateTime


@dataclass(frozen=True)
class RunEvent:
    """What each organization's event of one run says."""

    actor: Actor
    action: str
    at: datetime
    target_kind: str | None = None
    target_key: int | None = None


async def record_organizations(session: AsyncSession, event: RunEvent, organizations: Select[int]) -> None:
    """`INSERT ... SELECT DISTINCT`: the event for each organization not yet recorded by this run."""
    found = organizations.subquery()
    earlier = aliased(AuditEvent)
    recorded = (
        select(earlier.id)
        .where(
            earlier.organization_id == found.c[0],
            earlier.action == event.action,
            earlier.at == event.at,
            earlier.actor_object_id == event.actor.object_id,
        )
        .exists()
    )
    rows = (
        select(
            found.c[0],
            literal(event.at, UtcDateTime()),
            literal(event.actor.tenant_id),
            literal(event.actor.object_id),
            literal(event.action),
            literal(event.target_kind, AuditEvent.target_kind.type),
            literal(event.target_key, AuditEvent.target_key.type),
        )
        .where(~recorded)
        .distinct()
    )
    columns = ["organization_id", "at", "actor_tenant_id", "actor_object_id", "action"]
    await session.execute(insert(AuditEvent).from_select([*columns, "target_kind", "target_key"], rows))
