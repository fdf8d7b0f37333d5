"""Seeding a national partner base fast: every table filled by `INSERT ... SELECT` in SQL.

Rows come from a numbers source, `generate_series` on PostgreSQL and a recursive CTE on SQLite,
so nothing is built row by row in Python. Ten locations per organization, partner types in turn;
every organization has the PARTNER_PROGRAM and RESELLER agreements, a payment profile and a
Global admin with an email (the invitation emails go to them); countries rotate FR, SE, US, DE.
Tax profiles: three locations in four are valid on July 1 of N+1, the rest expire before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, TextClause, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeEngine

from domain.model import UtcDateTime

LOCATIONS_PER_ORGANIZATION = 10
INVITE_PROGRAM = "BENCH-INVITE"


@dataclass(frozen=True)
class Scale:
    locations: int
    enrollments_per_location: int
    fiscal_year: int

    @property
    def organizations(self) -> int:
        return max(1, self.locations // LOCATIONS_PER_ORGANIZATION)


def _numbers(dialect: str, count: int) -> tuple[str, str]:
    """(a WITH prefix, a FROM source) yielding `n.i` = 1..count."""
    if dialect == "postgresql":
        return "", f"generate_series(1, {count}) AS n(i)"
    return f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) ", "n"


def _statements(dialect: str, scale: Scale) -> list[str]:
    orgs_with, orgs = _numbers(dialect, scale.organizations)
    locs_with, locs = _numbers(dialect, scale.locations)
    programs_with, programs = _numbers(dialect, scale.enrollments_per_location)
    per_org = LOCATIONS_PER_ORGANIZATION
    return [
        f"{orgs_with}INSERT INTO organizations (id, global_partner_id, legal_name, country, "
        "migration_completed, solutions_partner_designated, created_at) "
        f"SELECT i, CAST(9000000 + i AS VARCHAR(16)), 'Bench Org ' || CAST(i AS VARCHAR(16)), "
        "CASE i % 4 WHEN 0 THEN 'FR' WHEN 1 THEN 'SE' WHEN 2 THEN 'US' ELSE 'DE' END, "
        f":yes, :no, :now FROM {orgs}",
        "INSERT INTO agreements (organization_id, kind, active, updated_at) "
        "SELECT o.id, k.kind, :yes, :now FROM organizations o CROSS JOIN "
        "(SELECT 'PARTNER_PROGRAM' AS kind UNION ALL SELECT 'RESELLER') AS k",
        "INSERT INTO payment_profiles (organization_id, name, currency, bank_account_last4, created_at) "
        "SELECT id, 'Main', 'USD', '1234', :now FROM organizations",
        "INSERT INTO organization_tenants (tenant_id, organization_id, added_at) "
        "SELECT 'bench-tenant-' || CAST(id AS VARCHAR(16)), id, :now FROM organizations",
        "INSERT INTO users (tenant_id, object_id, display_name, email, seen_as_global_admin) "
        "SELECT tenant_id, 'bench-ga-' || CAST(organization_id AS VARCHAR(16)), 'Global admin', "
        "'ga' || CAST(organization_id AS VARCHAR(16)) || '@bench.example', :yes FROM organization_tenants",
        f"{locs_with}INSERT INTO locations (id, organization_id, partner_id, name, country, partner_type, "
        "created_at) "
        f"SELECT i, (i - 1) / {per_org} + 1, CAST(7000000 + i AS VARCHAR(16)), "
        "'Bench Location ' || CAST(i AS VARCHAR(16)), 'US', "
        "CASE i % 3 WHEN 0 THEN 'DIRECT_RESELLER' WHEN 1 THEN 'INDIRECT_RESELLER' "
        f"ELSE 'INDIRECT_PROVIDER' END, :now FROM {locs} WHERE i <= {scale.organizations * per_org}",
        "INSERT INTO tax_profiles (location_id, tax_id, country, expires_on, created_at) "
        "SELECT id, 'TAX-' || partner_id, 'US', CASE WHEN id % 4 = 0 THEN :expired ELSE :valid END, :now "
        "FROM locations",
        f"{programs_with}INSERT INTO programs (code, name, status, created_at) "
        f"SELECT 'BENCH-P' || CAST(i AS VARCHAR(16)), 'Bench program', 'ACTIVE', :now FROM {programs}",
        f"INSERT INTO programs (code, name, status, created_at) "
        f"VALUES ('{INVITE_PROGRAM}', 'Bench invitations', 'ACTIVE', :now)",
        # Every program needs the RESELLER agreement (all have it: all 100,000 are invited); the
        # enrolled ones need DISTRIBUTOR too, so indirect providers (a third) roll into INELIGIBLE.
        "INSERT INTO program_criteria (program_id, kind) SELECT id, 'RESELLER_AGREEMENT' FROM programs",
        "INSERT INTO program_criteria (program_id, kind) "
        "SELECT id, 'DISTRIBUTOR_AGREEMENT' FROM programs WHERE code LIKE 'BENCH-P%'",
        "INSERT INTO enrollments (location_id, program_id, fiscal_year, status, payment_profile_id, "
        "earnings_start_date, created_at, updated_at) "
        "SELECT l.id, p.id, :year, 'ENROLLED', pp.id, :earning, :now, :now FROM locations l "
        "JOIN payment_profiles pp ON pp.organization_id = l.organization_id "
        "CROSS JOIN programs p WHERE p.code LIKE 'BENCH-P%'",
    ]


def _uses(sql: str, name: str) -> bool:
    return re.search(rf":{name}\b", sql) is not None


def _bound(sql: str) -> TextClause:
    statement = text(sql)
    typed: dict[str, TypeEngine[Any]] = {
        "now": UtcDateTime(),
        "yes": Boolean(),
        "no": Boolean(),
        "expired": Date(),
        "valid": Date(),
        "earning": Date(),
    }
    return statement.bindparams(
        *(bindparam(name, type_=kind) for name, kind in typed.items() if _uses(sql, name))
    )


async def seed(session: AsyncSession, scale: Scale) -> None:
    """Fill an empty, migrated database; commits."""
    dialect = session.get_bind().dialect.name
    first_day_next = date(scale.fiscal_year, 7, 1)
    values = {
        "now": datetime.now(UTC),
        "yes": True,
        "no": False,
        "expired": date(scale.fiscal_year, 6, 1),
        "valid": date(first_day_next.year + 1, 12, 31),
        "earning": date(scale.fiscal_year - 1, 7, 1),
        "year": scale.fiscal_year,
    }
    for sql in _statements(dialect, scale):
        await session.execute(_bound(sql), {k: v for k, v in values.items() if _uses(sql, k)})
    if dialect == "postgresql":
        # Explicit ids above: move the identity sequences past them.
        for table in ("organizations", "locations"):
            await session.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
            )
    await session.commit()
    await session.execute(text("ANALYZE"))
    await session.commit()
