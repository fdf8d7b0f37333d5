"""Counting the SQL statements a use case sends, to show it is set-based."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.driver_reads import recorded


@contextmanager
def counted_statements(sessions: async_sessionmaker[AsyncSession]) -> Iterator[list[str]]:
    """Collects the statements executed on the sessions' engine (an executemany counts once)."""
    engine: AsyncEngine = sessions.kw["bind"]
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]).split(None, 1)[0].upper())

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        with recorded(engine) as by_driver:  # the planned reads' own (adapters.driver_reads)
            yield seen
            seen.extend(statement.split(None, 1)[0].upper() for statement in by_driver)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
