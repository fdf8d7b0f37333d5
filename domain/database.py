"""Engines and sessions for the two supported backends, SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

SUPPORTED_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")


def check_url(url: str) -> str:
    """Refuse anything but the two async drivers, with a message that says what to write."""
    driver = make_url(url).drivername
    if driver not in SUPPORTED_DRIVERS:
        raise ValueError(
            f"DATABASE_URL uses {driver!r}; use sqlite+aiosqlite:///path.db "
            "or postgresql+asyncpg://user@host:port/database"
        )
    return url


def is_sqlite(url: str) -> bool:
    return make_url(url).drivername.startswith("sqlite")


DEFAULT_POOL_SIZE = 20
DEFAULT_MAX_OVERFLOW = 10


def create_engine(
    url: str,
    *,
    pool_size: int = DEFAULT_POOL_SIZE,
    max_overflow: int = DEFAULT_MAX_OVERFLOW,
    **options: Any,
) -> AsyncEngine:
    """An engine for `url`. On PostgreSQL, a pool of `pool_size` connections kept open (and up to
    `max_overflow` more opened under a burst): a request checks out one connection for all its SQL.

    No ping on checkout (`pool_pre_ping` would cost every request a round trip): when the database
    went away, the first statement on a dead connection fails and SQLAlchemy replaces every
    connection older than that failure, so one request per process pays for an outage.
    """
    check_url(url)
    if is_sqlite(url):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **options)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_size=pool_size, max_overflow=max_overflow, **options)


def _sqlite_pragmas(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    # Foreign keys are off by default in SQLite; WAL lets readers run beside the one writer.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)
