"""Counting the SQL statements a use case sends, to show it is set-based."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.driver_reads import every_statement


@contextmanager
def counted_statements(sessions: async_sessionmaker[AsyncSession]) -> Iterator[list[str]]:
    """The verb (SELECT, INSERT, ...) of each statement executed on the sessions' engine, the planned
    reads' own on the driver included (an executemany counts once)."""
    engine: AsyncEngine = sessions.kw["bind"]
    with every_statement(engine, keep=lambda sql: sql.split(None, 1)[0].upper()) as seen:
        yield seen
