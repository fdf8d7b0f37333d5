"""The audit trail of an organization's data: every change to it, the operator's included, records
who made it, when, and to what; the action is the mutation's name.

    audit.record(uow, actor, "addLocation", organization_id, location)     # one change

A batch job writes in many transactions, so each batch records, with one `INSERT ... SELECT`, the
organizations it touched that its run has not recorded yet (`record_organizations`); a run is
known by its actor, action and start time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from domain.access import Actor
from domain.model import (
    AuditEvent,
    Base,
    Enrollment,
    Invitation,
    Location,
    Organization,
    PaymentProfile,
    RoleAssignment,
    TaxProfile,
    UtcDateTime,
)
from domain.uow import UnitOfWork

# What an event names as its target, by the kind the API's global IDs use.
TARGET_KINDS: dict[type[Base], str] = {
    Organization: "Organization",
    Location: "Location",
    RoleAssignment: "RoleAssignment",
    Invitation: "Invitation",
    Enrollment: "Enrollment",
    PaymentProfile: "PaymentProfile",
    TaxProfile: "TaxProfile",
}


def record(uow: UnitOfWork, actor: Actor, action: str, organization_id: int, target: Base) -> AuditEvent:
    """Append one event to the unit of work; `target` is the changed row (it has its id already)."""
    event = AuditEvent(
        organization_id=organization_id,
        at=uow.clock.now(),
        actor_tenant_id=actor.tenant_id,
        actor_object_id=actor.object_id,
        action=action,
        target_kind=TARGET_KINDS[type(target)],
        target_key=target.id,  # type: ignore[attr-defined]
    )
    uow.session.add(event)
    return event


@dataclass(frozen=True)
class RunEvent:
    """What each organization's event of one batch run says."""

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
