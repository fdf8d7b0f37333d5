"""Real databases for tests: a migrated SQLite file per test, one PostgreSQL database per session.

Fixtures (stable names; other test modules rely on them):
- `sqlite_url` (function): a fresh, migrated SQLite file under `tmp_path`, copied from a template
  migrated once per session (`sqlite_template`).
- `postgres_url` (session): a fresh database `incentives_test_<random>` on the server named by
  `INCENTIVES_TEST_POSTGRES_URL` (default `postgresql+asyncpg://postgres@127.0.0.1:5432/`),
  migrated, dropped at the end; the test is skipped with a message when the server is unreachable.
- `database_url` (function): parametrised over "sqlite", "postgres" (marked `postgres`) and
  "pgbouncer" (marked `postgres` and `pgbouncer`: the same database through a private PgBouncer in
  transaction mode, `tests.support.pgbouncer`); the PostgreSQL database is emptied (every table
  but alembic_version truncated) before each test. Make engines on it with `engine_for`.
- `sessions` (function): an `async_sessionmaker` on `database_url`; the engine is disposed after.

Plain helpers for other fixtures: `run_in_thread`, `run_async`, `migrate`, `sqlite_url_for`,
`postgres_base_url`, `create_postgres_database`, `drop_postgres_database`,
`empty_postgres_database`, `copy_sqlite_database`.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.pool import QueuePool

import migrations
from domain.database import session_factory
from tests.support.pgbouncer import engine_for

T = TypeVar("T")
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/"
KEPT_TABLES = frozenset({"alembic_version"})


def checked_out(engine: AsyncEngine) -> int:
    """How many of the engine's pooled connections are out (in use, or kept by the planned reads)."""
    pool = engine.sync_engine.pool
    assert isinstance(pool, QueuePool)
    return pool.checkedout()


def run_in_thread(function: Callable[[], T]) -> T:
    """Run `function` in a fresh thread: safe for `asyncio.run` even inside a running loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function).result()


def run_async(function: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion on its own loop in a fresh thread."""
    return run_in_thread(lambda: asyncio.run(function()))


def migrate(url: str) -> None:
    run_in_thread(lambda: migrations.upgrade(url))


def sqlite_url_for(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def copy_sqlite_database(template: Path, target: Path) -> str:
    """Copy a migrated SQLite file (and its WAL, if any) and return the copy's URL."""
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{template}{suffix}")
        if source.exists():
            shutil.copyfile(source, Path(f"{target}{suffix}"))
    return sqlite_url_for(target)


def postgres_base_url() -> str:
    return os.environ.get("INCENTIVES_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def _dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


async def _admin(base_url: str, sql: str, *args: object) -> None:
    connection = await asyncpg.connect(_dsn(base_url, make_url(base_url).database or "postgres"), timeout=5)
    try:
        await connection.execute(sql, *args)
    finally:
        await connection.close()


def create_postgres_database(base_url: str) -> str:
    """Create and migrate `incentives_test_<random>`; returns its URL."""
    name = f"incentives_test_{secrets.token_hex(6)}"
    run_async(lambda: _admin(base_url, f'CREATE DATABASE "{name}"'))
    url = make_url(base_url).set(database=name).render_as_string(hide_password=False)
    migrate(url)
    return url


def drop_postgres_database(url: str) -> None:
    """Terminate the database's connections, then drop it."""
    name = make_url(url).database
    terminate = (
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = $1 AND pid <> pg_backend_pid()"
    )
    base = make_url(url).set(database="postgres").render_as_string(hide_password=False)
    run_async(lambda: _admin(base, terminate, name))
    run_async(lambda: _admin(base, f'DROP DATABASE IF EXISTS "{name}"'))


async def empty_postgres_database(url: str) -> None:
    """Truncate every table but alembic_version, restarting identities."""
    connection = await asyncpg.connect(_dsn(url), timeout=5)
    try:
        rows = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = [row["tablename"] for row in rows if row["tablename"] not in KEPT_TABLES]
        if tables:
            quoted = ", ".join(f'"{table}"' for table in tables)
            await connection.execute(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    migrate(sqlite_url_for(path))
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    return copy_sqlite_database(sqlite_template, tmp_path / "incentives.db")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    base_url = postgres_base_url()
    try:
        run_async(lambda: _admin(base_url, "SELECT 1"))
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        pytest.skip(
            f"PostgreSQL not reachable at {base_url}: {error}; start it or set INCENTIVES_TEST_POSTGRES_URL"
        )
    url = create_postgres_database(base_url)
    try:
        yield url
    finally:
        drop_postgres_database(url)


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("pgbouncer", marks=[pytest.mark.postgres, pytest.mark.pgbouncer]),
    ]
)
def database_url(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    url = str(request.getfixturevalue("postgres_url"))
    run_async(lambda: empty_postgres_database(url))
    if request.param == "pgbouncer":
        return str(request.getfixturevalue("pooled_postgres").url)
    return url


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = engine_for(database_url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()
