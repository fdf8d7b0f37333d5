"""Statements spelled differently by the two backends (SQLite, PostgreSQL): the one place that
knows which dialect a session speaks."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from domain.model import Base


def _insert(session: AsyncSession, entity: type[Base]) -> postgresql.Insert | sqlite.Insert:
    build = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    return build(entity)


def insert_ignoring_conflicts(session: AsyncSession, entity: type[Base]) -> postgresql.Insert | sqlite.Insert:
    """`INSERT ... ON CONFLICT DO NOTHING` in the session's dialect; add `.values(...)` or
    `.from_select(...)`. A row a concurrent transaction inserted first wins; the rest are kept."""
    return _insert(session, entity).on_conflict_do_nothing()


async def insert_or_update(
    session: AsyncSession, entity: type[Base], values: dict[str, Any], *, key: str, update: dict[str, Any]
) -> None:
    """One row, or when a row with the same `key` exists (or a concurrent transaction inserted it
    first), `update` applied to that row: `INSERT ... ON CONFLICT (key) DO UPDATE`."""
    statement = _insert(session, entity).values(**values)
    await session.execute(statement.on_conflict_do_update(index_elements=[key], set_=update))


async def insert_if_absent(session: AsyncSession, entity: type[Base], values: dict[str, Any]) -> None:
    """One row, unless a row with the same key exists (or a concurrent transaction inserted it first)."""
    await session.execute(insert_ignoring_conflicts(session, entity).values(**values))


async def without_jit(session: AsyncSession) -> None:
    """For the rest of the transaction, no JIT compilation of plans (PostgreSQL; SQLite has none).

    A batch job's plan costs enough to trigger PostgreSQL's JIT, whose compilation (most of a
    second) costs more than it saves on a few thousand rows.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL jit = off"))


async def refresh_statistics(session: AsyncSession, entity: type[Base]) -> None:
    """Refresh the planner's statistics of a table a bulk job has just rewritten (PostgreSQL; SQLite
    plans by its indexes alone), as autovacuum would, minutes later.

    After the roll-forward, the statistics still said fiscal year N+1 had no enrollments; the new
    year's invitations then probed each location's enrollment through the (year, status) index
    instead of the unique one, reading every N+1 row per location (2,000 locations: 19 s).
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text(f"ANALYZE {entity.__tablename__}"))
