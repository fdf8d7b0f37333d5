"""The benchmark's partner base, seeded in SQL (`INSERT ... SELECT` from a numbers source).

Organization `o` has the tenant `00000000-0000-4000-8000-<o, 12 digits>`, whose Global admin
(object id `...-9000-<o>`) is a stored user with the name and email the benchmark's token carries,
so signing in writes nothing. Location `i` has `enrollments_per_location` enrollments (ids
`(i - 1) * E + 1 ...`), over the first four programs and three fiscal years (the current one and
the two before), with statuses in a ten-step rotation: four ENROLLED, two ACTION_REQUIRED, one each
of VALIDATING_ENROLLMENT, INVITED, INELIGIBLE and INACTIVE. Every fourth program is DISCONTINUED
(the fourth enrolled one too). Every location has a tax profile; at every fourth one it has
expired, and every eighth got a newer, valid one since. A Global admin sees ENROLLING for the
in-progress statuses and for ENROLLED ones of this year whose tax profile lapsed.
"""

from __future__ import annotations

import secrets
import shutil
import sqlite3
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import Date, bindparam, text
from sqlalchemy.engine import make_url
from sqlalchemy.types import TypeEngine

import migrations
from domain.database import create_engine, session_factory
from domain.fiscal import fiscal_year_of
from domain.model import UtcDateTime

ENROLLED_PROGRAMS = 4
FISCAL_YEARS = 3
STATUSES = (
    "ENROLLED",
    "ENROLLED",
    "ACTION_REQUIRED",
    "VALIDATING_ENROLLMENT",
    "ENROLLED",
    "INVITED",
    "INELIGIBLE",
    "ENROLLED",
    "INACTIVE",
    "ACTION_REQUIRED",
)


@dataclass(frozen=True)
class Scale:
    organizations: int = 500
    locations_per_organization: int = 50
    enrollments_per_location: int = 6
    programs: int = 24

    def __post_init__(self) -> None:
        # (program, year) pairs stay distinct for k < 12 because 4 and 3 are coprime.
        if not 1 <= self.enrollments_per_location <= ENROLLED_PROGRAMS * FISCAL_YEARS:
            raise ValueError(f"enrollments per location: 1 to {ENROLLED_PROGRAMS * FISCAL_YEARS}")
        if self.programs < ENROLLED_PROGRAMS or self.organizations < 1 or self.locations_per_organization < 1:
            raise ValueError(f"at least one organization and location, and {ENROLLED_PROGRAMS} programs")

    @property
    def locations(self) -> int:
        return self.organizations * self.locations_per_organization

    @property
    def enrollments(self) -> int:
        return self.locations * self.enrollments_per_location


@dataclass(frozen=True)
class Viewer:
    """The Global admin whose dashboard is measured, and the organization it shows."""

    organization_id: int
    tenant_id: str
    object_id: str
    name: str
    email: str


def viewer_of(organization_id: int) -> Viewer:
    return Viewer(
        organization_id=organization_id,
        tenant_id=f"00000000-0000-4000-8000-{organization_id:012d}",
        object_id=f"00000000-0000-4000-9000-{organization_id:012d}",
        name=f"Global admin {organization_id}",
        email=f"ga{organization_id}@bench.example",
    )


def _numbers(dialect: str, count: int) -> tuple[str, str]:
    """(a WITH prefix, a FROM source) yielding `n.i` = 1..count."""
    if dialect == "postgresql":
        return "", f"generate_series(1, {count}) AS n(i)"
    return f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) ", "n"


def _padded(dialect: str, column: str) -> str:
    digits = f"'000000000000' || CAST({column} AS VARCHAR(12))"
    return f"right({digits}, 12)" if dialect == "postgresql" else f"substr({digits}, -12)"


def _status(column: str) -> str:
    cases = " ".join(f"WHEN {n} THEN '{status}'" for n, status in enumerate(STATUSES))
    return f"CASE {column} % {len(STATUSES)} {cases} END"


def _statements(dialect: str, scale: Scale) -> list[str]:
    orgs_with, orgs = _numbers(dialect, scale.organizations)
    locs_with, locs = _numbers(dialect, scale.locations)
    programs_with, programs = _numbers(dialect, scale.programs)
    ks_with, ks = _numbers(dialect, scale.enrollments_per_location)
    per_org, per_loc = scale.locations_per_organization, scale.enrollments_per_location
    k = "(n.i - 1)"
    return [
        f"{orgs_with}INSERT INTO organizations (id, global_partner_id, legal_name, country, "
        "migration_completed, solutions_partner_designated, created_at) "
        "SELECT i, CAST(9000000 + i AS VARCHAR(16)), 'Bench Org ' || CAST(i AS VARCHAR(16)), 'US', "
        f":yes, :no, :now FROM {orgs}",
        "INSERT INTO organization_tenants (tenant_id, organization_id, added_at) "
        f"SELECT '00000000-0000-4000-8000-' || {_padded(dialect, 'id')}, id, :now FROM organizations",
        "INSERT INTO users (tenant_id, object_id, display_name, email, seen_as_global_admin) "
        f"SELECT t.tenant_id, '00000000-0000-4000-9000-' || {_padded(dialect, 't.organization_id')}, "
        "'Global admin ' || CAST(t.organization_id AS VARCHAR(16)), "
        "'ga' || CAST(t.organization_id AS VARCHAR(16)) || '@bench.example', :yes "
        "FROM organization_tenants t",
        f"{locs_with}INSERT INTO locations (id, organization_id, partner_id, name, country, partner_type, "
        "created_at) "
        f"SELECT i, (i - 1) / {per_org} + 1, CAST(7000000 + i AS VARCHAR(16)), "
        "'Bench Location ' || CAST(i AS VARCHAR(16)), 'US', "
        "CASE i % 3 WHEN 0 THEN 'DIRECT_RESELLER' WHEN 1 THEN 'INDIRECT_RESELLER' "
        f"ELSE 'INDIRECT_PROVIDER' END, :now FROM {locs}",
        "INSERT INTO tax_profiles (location_id, tax_id, country, expires_on, created_at) "
        "SELECT id, 'TAX-' || partner_id, 'US', CASE WHEN id % 4 = 0 THEN :expired ELSE :valid END, :now "
        "FROM locations ORDER BY id",
        "INSERT INTO tax_profiles (location_id, tax_id, country, expires_on, created_at) "
        "SELECT id, 'TAX2-' || partner_id, 'US', :valid, :now FROM locations WHERE id % 8 = 0 ORDER BY id",
        f"{programs_with}INSERT INTO programs (id, code, name, status, created_at) "
        "SELECT i, 'BENCH-P' || CAST(i AS VARCHAR(16)), 'Bench program ' || CAST(i AS VARCHAR(16)), "
        f"CASE WHEN i % 4 = 0 THEN 'DISCONTINUED' ELSE 'ACTIVE' END, :now FROM {programs}",
        f"{ks_with}INSERT INTO enrollments (id, location_id, program_id, fiscal_year, status, "
        "created_at, updated_at) "
        f"SELECT (l.id - 1) * {per_loc} + n.i, l.id, (l.id + {k}) % {ENROLLED_PROGRAMS} + 1, "
        f":year - {FISCAL_YEARS - 1} + {k} % {FISCAL_YEARS}, {_status(f'(l.id * 7 + {k} * 3)')}, :now, :now "
        f"FROM locations l CROSS JOIN {ks}",
    ]


async def seed(database_url: str, scale: Scale, today: date) -> None:
    """Fill an empty, migrated database, then ANALYZE it."""
    engine = create_engine(database_url)
    values: dict[str, Any] = {
        "now": datetime.now(UTC),
        "yes": True,
        "no": False,
        "expired": today - timedelta(days=30),
        "valid": today + timedelta(days=365),
        "year": fiscal_year_of(today),
    }
    types: dict[str, TypeEngine[Any]] = {"now": UtcDateTime(), "expired": Date(), "valid": Date()}
    try:
        async with session_factory(engine)() as session:
            dialect = session.get_bind().dialect.name
            for sql in _statements(dialect, scale):
                used = {name: value for name, value in values.items() if f":{name}" in sql}
                bound = text(sql).bindparams(*(bindparam(n, type_=types[n]) for n in used if n in types))
                await session.execute(bound, used)
            if dialect == "postgresql":
                for table in ("organizations", "locations", "programs", "enrollments"):
                    sequence = f"pg_get_serial_sequence('{table}', 'id')"
                    await session.execute(text(f"SELECT setval({sequence}, (SELECT max(id) FROM {table}))"))
            await session.commit()
            await session.execute(text("ANALYZE"))
            await session.commit()
    finally:
        await engine.dispose()


@asynccontextmanager
async def postgres_database(base_url: str, *, keep: bool) -> AsyncIterator[str]:
    """A fresh, migrated database on the server of `base_url`; dropped at the end unless `keep`."""
    name = f"incentives_bench_api_{secrets.token_hex(4)}"
    await admin(base_url, f'CREATE DATABASE "{name}"')
    url = make_url(base_url).set(database=name).render_as_string(hide_password=False)
    try:
        await migrations.upgrade_async(url)
        yield url
    finally:
        if not keep:
            await admin(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@asynccontextmanager
async def sqlite_database(directory: Path) -> AsyncIterator[str]:
    url = f"sqlite+aiosqlite:///{directory / 'bench-api.db'}"
    await migrations.upgrade_async(url)
    yield url


def libpq_url(database_url: str) -> str:
    """`postgresql://...` (asyncpg, node-postgres) for a SQLAlchemy `postgresql+asyncpg://...` URL."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


async def admin(base_url: str, sql: str) -> None:
    dsn = make_url(base_url).set(drivername="postgresql", database="postgres")
    connection = await asyncpg.connect(dsn.render_as_string(hide_password=False), timeout=10)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def schema_head(checkout: Path) -> str:
    """The newest migration of another checkout of incentives, as its own code names it."""
    code = "from api.entry import latest_revision; print(latest_revision('sqlite://'))"
    python = checkout / ".venv" / "bin" / "python"
    found = subprocess.run(
        [str(python), "-c", code], cwd=checkout, capture_output=True, text=True, check=True
    )
    return found.stdout.strip()


@asynccontextmanager
async def stamped_copy(url: str, revision: str, *, keep: bool) -> AsyncIterator[str]:
    """A copy of the seeded database `url` marked as being at migration `revision`: an earlier
    checkout serves only a database at its own newest migration (`serve` checks), and the tables
    and columns added since are ones it never reads, nor does the benchmark write. Yields its
    database name (a path on SQLite), for `Server.database`."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        assert parsed.database, "a SQLite file"
        copy = str(Path(parsed.database).with_name("bench-api-before.db"))
        shutil.copyfile(parsed.database, copy)
        with sqlite3.connect(copy) as connection:
            connection.execute("UPDATE alembic_version SET version_num = ?", (revision,))
        yield copy
        return
    copy = f"{parsed.database}_before"
    await admin(url, f'CREATE DATABASE "{copy}" TEMPLATE "{parsed.database}"')
    dsn = parsed.set(drivername="postgresql", database=copy).render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        await connection.execute("UPDATE alembic_version SET version_num = $1", revision)
    finally:
        await connection.close()
    try:
        yield copy
    finally:
        if not keep:
            await admin(url, f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
