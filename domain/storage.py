"""Statements spelled differently by the two backends (SQLite, PostgreSQL)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from domain.model import Base


async def insert_if_absent(session: AsyncSession, entity: type[Base], values: dict[str, Any]) -> None:
    """`INSERT ... ON CONFLICT DO NOTHING`: a row a concurrent transaction inserted first wins."""
    dialect = session.get_bind().dialect.name
    build = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.execute(build(entity).values(**values).on_conflict_do_nothing())
