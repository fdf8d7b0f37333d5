"""Organizations (Partner Global Accounts), their agreements and audit trail."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from operator import attrgetter
from typing import Any

import strawberry

from api.graphql.declared import Asked, Fetch, FetchPages, Guard, Reading, Row, Typed
from api.graphql.fields import batch, column, computed, paged
from api.graphql.ids import to_global_id
from api.graphql.nodes import visible_nodes
from api.graphql.types.base import Connection, Node, children, node_type, object_type, rows_of
from api.graphql.types.location import Location
from api.graphql.types.payout import PaymentProfile
from api.graphql.types.people import Contact, RoleAssignment
from api.read.json_pages import JsonPages
from domain import model as models
from domain.access import Action, Scope
from domain.queries import entities, people
from domain.queries.pages import EVERYWHERE, counts_by_parent, row_pages_by_parent
from domain.vocabulary import AgreementKind

NULLABLE_WHEN_FORBIDDEN = (
    "Null (with a FORBIDDEN error at this path) for callers without the role, so the rest of "
    "the organization still reads."
)


@object_type(
    "A partner agreement of an organization, as recorded by an operator.", Guard(Action.READ_ORGANIZATION)
)
class Agreement:
    """Its row: a `domain.model.Agreement`."""

    row: strawberry.Private[Any]
    kind: AgreementKind = column("Which agreement.")
    active: bool = column("Whether the agreement is in force.")


async def _display_names(reading: Reading, events: Sequence[Row], asked: Asked) -> list[str | None]:
    keys = [(event.actor_tenant_id, event.actor_object_id) for event in events]
    found = await people.display_names(reading.session, keys)
    return [found.get(key) for key in keys]


def _target_id(event: Row) -> str | None:
    if event.target_kind is None or event.target_key is None:
        return None
    return to_global_id(event.target_kind, event.target_key)


async def _targets(reading: Reading, events: Sequence[Row], asked: Asked) -> list[Typed | None]:
    named = [
        None if e.target_kind is None or e.target_key is None else (e.target_kind, e.target_key)
        for e in events
    ]
    return await visible_nodes(reading, named)


@object_type(
    "A change to an organization's data: who made it, when, and to what.",
    Guard(Action.READ_AUDIT_LOG),
    table=models.AuditEvent.__table__,
    reads=("organization_id", "actor_tenant_id", "target_kind", "target_key"),
)
class AuditEvent:
    """Its row: one of `audit_events`."""

    row: strawberry.Private[Any]
    at: datetime = column("When, in UTC.")
    actor_object_id: strawberry.ID = column("The Entra object ID of who made the change.")
    actor_display_name: str | None = batch(
        _display_names,
        "The display name of who made the change, as the service last saw it (from their token); "
        "null when it never learned one (operators, apps).",
    )
    action: str = column("The mutation's name, e.g. addLocation.")
    target_id: strawberry.ID | None = computed(
        _target_id, "The global ID of the changed object, when there is one."
    )
    target: Node | None = batch(
        _targets,
        "The changed object, when it still exists and the caller may read it; else null "
        "(`targetId` still names it).",
    )


def itself(organization: Row) -> Scope:
    """Where an organization is: itself."""
    return Scope(organization_id=organization.id)


def _ids(rows: Sequence[Row]) -> list[int]:
    return [row.id for row in rows]


async def _agreements(reading: Reading, organizations: Sequence[Row], asked: Asked) -> list[Any]:
    found = await entities.agreements_by_organization(reading.session, _ids(organizations))
    return [found[key] for key in _ids(organizations)]


async def _admin_contacts(reading: Reading, organizations: Sequence[Row], asked: Asked) -> list[Any]:
    found = await people.admin_contacts_by_organization(reading.session, _ids(organizations))
    return [found[key] for key in _ids(organizations)]


def _children(type_name: str) -> tuple[FetchPages, Fetch]:
    """A list of an organization's own objects (their `organization_id`), paged and counted."""

    async def pages(reading: Reading, organizations: Sequence[Row], asked: Asked) -> list[Any]:
        assert asked.page is not None
        ids, rows = _ids(organizations), rows_of(type_name)
        found = await row_pages_by_parent(reading.source, rows, rows.table.c.organization_id, ids, asked.page)
        return [found[key] for key in ids]

    async def counts(reading: Reading, organizations: Sequence[Row], asked: Asked) -> list[int]:
        ids = _ids(organizations)
        found = await counts_by_parent(reading.session, rows_of(type_name).table.c.organization_id, ids)
        return [found[key] for key in ids]

    return pages, counts


@node_type(
    "A partner organization (Partner Global Account).",
    Guard(Action.READ_ORGANIZATION, itself),
    table=models.Organization.__table__,
)
class Organization(Node):
    global_partner_id: str = column("The global PartnerID: digits.")
    legal_name: str = column("The legal business name.")
    country: str = column("ISO 3166-1 alpha-2.")
    migration_completed: bool = column(
        "False until the organization completes its migration; enrolling needs it."
    )
    has_solutions_partner_designation: bool = column(
        "Whether the organization holds a Solutions Partner designation (recorded by an operator).",
        name="solutions_partner_designated",
    )
    agreements: list[Agreement] = batch(_agreements, "The organization's partner agreements, active or not.")
    admin_contacts: list[Contact] = batch(
        _admin_contacts, "The organization's Global and Account admins known to the service."
    )
    locations: Connection[Location] = paged(
        *_children("Location"),
        "The organization's locations, oldest first.",
        json=JsonPages(
            lambda: rows_of("Location"),
            models.Location.__table__.c.organization_id,
            lambda asked, coverage: EVERYWHERE,
            attrgetter("id"),
        ),
    )
    role_assignments: Connection[RoleAssignment] | None = paged(
        *_children("RoleAssignment"),
        f"Every stored role assignment. {NULLABLE_WHEN_FORBIDDEN}",
        guard=Guard(Action.READ_ROLE_ASSIGNMENTS, itself),
    )
    payment_profiles: list[PaymentProfile] = batch(
        children("PaymentProfile", "organization_id"), "The organization's bank profiles for payouts."
    )
    audit_log: Connection[AuditEvent] | None = paged(
        *_children("AuditEvent"),
        f"Who changed what, newest first. {NULLABLE_WHEN_FORBIDDEN}",
        guard=Guard(Action.READ_AUDIT_LOG, itself),
        descending=True,
    )
