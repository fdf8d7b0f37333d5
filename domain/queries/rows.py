"""What the API reads of each table, as plain rows: the columns it shows (no timestamps nobody
shows: less to convert per row), and the organization an object belongs to where a guard needs it.
The planned read reads their columns by position; every source of a type's objects gives its rows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Row

from domain import model as models
from domain.queries.pages import Rows, Source, rows_by_ids

ORGANIZATIONS = Rows(
    models.Organization.__table__,
    keep=(
        "id",
        "global_partner_id",
        "legal_name",
        "country",
        "migration_completed",
        "solutions_partner_designated",
    ),
)
LOCATIONS = Rows(
    models.Location.__table__, keep=("id", "organization_id", "partner_id", "name", "country", "partner_type")
)
PROGRAMS = Rows(models.Program.__table__, keep=("id", "code", "name", "status"))
PAYMENT_PROFILES = Rows(
    models.PaymentProfile.__table__, keep=("id", "organization_id", "name", "currency", "bank_account_last4")
)
# A tax profile with its location's organization (the guard of `TaxProfile` names both).
TAX_PROFILES = Rows(
    models.TaxProfile.__table__,
    keep=("id", "location_id", "tax_id", "country", "expires_on"),
    columns=(models.Location.organization_id.label("organization_id"),),
    joins=((models.Location, models.Location.id == models.TaxProfile.location_id),),
)
# A user with the organization of their tenant (None while it has none).
USERS = Rows(
    models.User.__table__,
    keep=("id", "tenant_id", "object_id", "display_name", "email"),
    columns=(models.OrganizationTenant.organization_id.label("organization_id"),),
    joins=((models.OrganizationTenant, models.OrganizationTenant.tenant_id == models.User.tenant_id),),
)
ROLE_ASSIGNMENTS = Rows(
    models.RoleAssignment.__table__,
    keep=("id", "organization_id", "user_id", "role", "all_locations", "all_programs"),
)
AUDIT_EVENTS = Rows(
    models.AuditEvent.__table__,
    keep=(
        "id",
        "organization_id",
        "at",
        "actor_tenant_id",
        "actor_object_id",
        "action",
        "target_kind",
        "target_key",
    ),
)
# An invitation with its location's organization (the guard of `Invitation` names it).
INVITATIONS = Rows(
    models.Invitation.__table__,
    keep=("id", "location_id", "program_id", "fiscal_year", "channel"),
    columns=(models.Location.organization_id.label("organization_id"),),
    joins=((models.Location, models.Location.id == models.Invitation.location_id),),
)


def by_ids(rows: Rows) -> Callable[[Source, Sequence[int]], Awaitable[dict[int, Row[Any]]]]:
    """A type's `by_id`: its rows of these ids, by id."""

    async def read(source: Source, ids: Sequence[int]) -> dict[int, Row[Any]]:
        return await rows_by_ids(source, rows, ids)

    return read


async def rows_in_order(source: Source, rows: Rows, ids: Iterable[int | None]) -> list[Row[Any] | None]:
    """The rows of these ids (None where an id is None or names nothing), in the order given."""
    wanted = list(ids)
    found = await rows_by_ids(source, rows, (key for key in wanted if key is not None))
    return [None if key is None else found.get(key) for key in wanted]
