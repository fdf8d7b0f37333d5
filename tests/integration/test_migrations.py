from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

import migrations
from domain.model import Base, Enrollment
from domain.vocabulary import CriterionKind, EnrollmentStatus
from tests.support.databases import run_in_thread, sqlite_url_for
from tests.support.pgbouncer import engine_for
from tests.support.world import world_on


def differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_the_migrated_schema_matches_the_model(database_url: str) -> None:
    engine = engine_for(database_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(differences) == []
    finally:
        await engine.dispose()


async def test_migrating_twice_is_safe(database_url: str) -> None:
    run_in_thread(lambda: migrations.upgrade(database_url))
    run_in_thread(lambda: migrations.upgrade(database_url))
    engine = engine_for(database_url)
    try:
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    finally:
        await engine.dispose()
    assert {"alembic_version", "organizations", "enrollments", "outbox"} <= tables


async def test_migration_0006_reopens_the_ineligible_enrollments_of_open_programs(tmp_path: Path) -> None:
    """Rule 25: an older roll-forward left an open program's enrollment INELIGIBLE, which `enroll`
    now refuses; after 0006 it is INVITED. A program with criteria keeps its INELIGIBLE ones."""
    url = sqlite_url_for(tmp_path / "before-0006.db")
    run_in_thread(lambda: migrations.upgrade(url))  # the services below write today's schema
    async with world_on(url) as world:
        org = await world.organization()
        location = await world.location(org)
        open_to_all = await world.program("OPEN")
        with_criteria = await world.program("CRIT", [CriterionKind.PARTNER_PROGRAM_AGREEMENT])
        async with world.raw() as raw:
            for program_id in (open_to_all, with_criteria):
                await raw.enrollment(location, program_id, status=EnrollmentStatus.INELIGIBLE)
            await raw.enrollment(location, open_to_all, status=EnrollmentStatus.ENROLLED, fiscal_year=2026)
    config = migrations.alembic_config(url)
    run_in_thread(lambda: command.downgrade(config, "0005"))  # back to before 0006, rows kept
    run_in_thread(lambda: migrations.upgrade(url))
    async with world_on(url) as world:
        rows = await world.rows(Enrollment)
    assert sorted((row.program_id, row.fiscal_year, row.status) for row in rows) == [
        (open_to_all, 2026, EnrollmentStatus.ENROLLED),
        (open_to_all, 2027, EnrollmentStatus.INVITED),
        (with_criteria, 2027, EnrollmentStatus.INELIGIBLE),
    ]
