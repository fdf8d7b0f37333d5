"""Engines and sessions for the two supported backends, SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry, NullPool

from domain.queries.json_sql import register_functions

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
DEFAULT_MAX_OVERFLOW = 0


# Behind a transaction pooler (PgBouncer, pool_mode = transaction) consecutive transactions of one
# client connection run on different server sessions: no statement may stay prepared between them.
# asyncpg then sends each statement unnamed and parses it again with its bind (asyncpg's FAQ);
# SQLAlchemy's dialect keeps no prepared statements of its own.
POOLED_CONNECT_ARGS = {"statement_cache_size": 0, "prepared_statement_cache_size": 0}

# The direct URL of each engine made for a transaction pooler (`create_engine(..., direct_url=)`).
_DIRECT: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def create_engine(
    url: str,
    *,
    pool_size: int = DEFAULT_POOL_SIZE,
    max_overflow: int = DEFAULT_MAX_OVERFLOW,
    direct_url: str | None = None,
    **options: Any,
) -> AsyncEngine:
    """An engine for `url`. On PostgreSQL, a pool of `pool_size` connections kept open, and by
    default no more: under a burst, requests wait for a connection (within their timeout) rather
    than open one and close it again (a new PostgreSQL connection is a process, forked and torn
    down: measured, the overflow's churn cost more CPU than the requests it served). A request
    checks out one connection for all its SQL.

    No ping on checkout (`pool_pre_ping` would cost every request a round trip): when the database
    went away, the first statement on a dead connection fails and SQLAlchemy replaces every
    connection older than that failure, so one request per process pays for an outage.

    With `direct_url` (INCENTIVES_DIRECT_DATABASE_URL), `url` is PgBouncer in transaction mode: its
    connections keep no prepared statements, and what needs a session of its own (LISTEN, session
    advisory locks) connects to `direct_url` instead (`session_url`, `session_connection`).
    """
    check_url(url)
    if is_sqlite(url):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **options)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "checkout", _sqlite_checked_out)
        event.listen(engine.sync_engine, "checkin", _sqlite_checked_in)
        return engine
    if direct_url is None:
        return create_async_engine(url, pool_size=pool_size, max_overflow=max_overflow, **options)
    check_url(direct_url)
    if is_sqlite(direct_url):
        raise ValueError(
            "INCENTIVES_DIRECT_DATABASE_URL must be a postgresql+asyncpg:// URL, as DATABASE_URL is"
        )
    connect_args = {**POOLED_CONNECT_ARGS, **options.pop("connect_args", {})}
    engine = create_async_engine(
        url, pool_size=pool_size, max_overflow=max_overflow, connect_args=connect_args, **options
    )
    _DIRECT[engine.sync_engine] = direct_url
    return engine


def caches_statements(engine: AsyncEngine) -> bool:
    """Whether `engine`'s PostgreSQL connections keep prepared statements (not behind PgBouncer)."""
    return engine.dialect.name == "postgresql" and engine.sync_engine not in _DIRECT


def session_url(engine: AsyncEngine) -> str:
    """Where to open a connection that keeps its session (LISTEN, session advisory locks): the
    direct URL of an engine behind PgBouncer, else the engine's own URL."""
    direct = _DIRECT.get(engine.sync_engine)
    return direct if direct is not None else engine.url.render_as_string(hide_password=False)


@asynccontextmanager
async def session_connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection whose session is its own for the block: one of `engine`'s, or, behind
    PgBouncer, a connection of its own to the direct URL, closed after the block (session-level
    state on a pooled connection would stay on a server session that other clients then use)."""
    direct = _DIRECT.get(engine.sync_engine)
    if direct is None:
        async with engine.connect() as connection:
            yield connection
        return
    alone = create_async_engine(direct, poolclass=NullPool)
    try:
        async with alone.connect() as connection:
            yield connection
    finally:
        await alone.dispose()


def _sqlite_pragmas(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    # Foreign keys are off by default in SQLite; WAL lets readers run beside the one writer.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
    register_functions(dbapi_connection)


# SQLite connections in use, by the task using them: a request stopped at its deadline (or whose
# client left) interrupts its statement, which would otherwise run on in aiosqlite's thread.
# (asyncpg cancels a PostgreSQL statement itself when its task is cancelled.)
_IN_USE: weakref.WeakKeyDictionary[asyncio.Task[Any], set[Any]] = weakref.WeakKeyDictionary()


def _current_task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:  # no running loop (a synchronous engine)
        return None


def _sqlite_checked_out(dbapi_connection: Any, record: ConnectionPoolEntry, proxy: Any) -> None:
    task = _current_task()
    if task is not None and record.driver_connection is not None:
        record.info["task"] = task
        _IN_USE.setdefault(task, set()).add(record.driver_connection)


def _sqlite_checked_in(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    task = record.info.pop("task", None)
    if task is not None:
        _IN_USE.get(task, set()).discard(record.driver_connection)


def release_from_this_task(connection: Any) -> None:
    """No longer count a SQLite driver connection checked out by the current task as its own: one
    that every task uses in turn (`adapters.driver_reads.Shared`), whose statement interrupted at one
    request's deadline would be another request's."""
    task = _current_task()
    if task is not None:
        _IN_USE.get(task, set()).discard(connection)


def interrupt_statements(task: asyncio.Task[Any]) -> int:
    """Interrupt the SQLite statements `task` is running (call before cancelling it); how many
    connections were told."""
    connections = list(_IN_USE.get(task, ()))
    for connection in connections:
        interrupt = getattr(connection, "interrupt", None)  # aiosqlite's: sqlite3's interrupt()
        if interrupt is not None:
            told = task.get_loop().create_task(interrupt())
            _TELLING.add(told)
            told.add_done_callback(_TELLING.discard)
    return len(connections)


_TELLING: set[asyncio.Task[Any]] = set()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)


def is_unavailable(error: BaseException) -> bool:
    """Whether `error` says the database could not be reached or dropped the connection (it is
    down, restarting, or out of connections), rather than refusing what was asked of it."""
    for cause in _causes(error):
        if isinstance(cause, exc.DBAPIError) and cause.connection_invalidated:
            return True
        if isinstance(cause, exc.TimeoutError | exc.DisconnectionError | ConnectionError | TimeoutError):
            return True
        if isinstance(cause, OSError) and not isinstance(cause, FileNotFoundError | PermissionError):
            return True
        name = type(cause).__name__
        if name in _UNAVAILABLE_DRIVER_ERRORS:
            return True
    return False


# asyncpg's names for a server that went away or will not take connections (matched by name: the
# domain does not import asyncpg).
_UNAVAILABLE_DRIVER_ERRORS = frozenset(
    {
        "ConnectionDoesNotExistError",
        "ConnectionFailureError",
        "CannotConnectNowError",
        "AdminShutdownError",
        "CrashShutdownError",
        "TooManyConnectionsError",
    }
)


def _causes(error: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and len(found) < 10:
        found.append(current)
        if isinstance(current, exc.DBAPIError) and isinstance(current.orig, BaseException):
            found.append(current.orig)
        current = current.__cause__ or current.__context__
    return found
