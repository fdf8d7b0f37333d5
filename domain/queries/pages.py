"""Keyset pagination: pages of one parent, pages of N parents in one statement, grouped counts.

Keys are primary keys: ascending for most lists, descending for the audit log (newest first).
A page asks for `first + 1` rows, so whether another page follows costs no extra statement.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from domain.model import Base

M = TypeVar("M", bound=Base)
T = TypeVar("T")


@dataclass(frozen=True)
class PageArgs:
    """What page of a list: at most `first` rows after the row keyed `after` (None: from the start)."""

    first: int
    after: int | None = None
    descending: bool = False


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    has_next: bool

    @classmethod
    def cut(cls, rows: Sequence[T], first: int) -> Page[T]:
        return cls(list(rows[:first]), len(rows) > first)


def _after(key: InstrumentedAttribute[int], args: PageArgs) -> ColumnElement[bool]:
    if args.after is None:
        return true()
    return key < args.after if args.descending else key > args.after


async def page_of(
    session: AsyncSession,
    model: type[M],
    args: PageArgs,
    *conditions: ColumnElement[bool],
) -> Page[M]:
    """One page of `model` rows meeting `conditions`, keyed on `model.id`."""
    key: InstrumentedAttribute[int] = model.id  # type: ignore[attr-defined]
    order = key.desc() if args.descending else key.asc()
    statement = select(model).where(_after(key, args), *conditions).order_by(order).limit(args.first + 1)
    rows = (await session.execute(statement)).scalars().all()
    return Page.cut(rows, args.first)


async def pages_by_parent(
    session: AsyncSession,
    model: type[M],
    parent: InstrumentedAttribute[int],
    parent_ids: Iterable[int],
    args: PageArgs,
    *conditions: ColumnElement[bool],
    joins: Sequence[tuple[Any, ColumnElement[bool]]] = (),
) -> dict[int, Page[M]]:
    """The same page for each parent, in ONE statement (ROW_NUMBER per parent; SQLite and PostgreSQL)."""
    ids = sorted(set(parent_ids))
    key: InstrumentedAttribute[int] = model.id  # type: ignore[attr-defined]
    order = key.desc() if args.descending else key.asc()
    rank = func.row_number().over(partition_by=parent, order_by=order).label("rank")
    inner_query: Select[Any] = select(model, rank)
    for target, on in joins:
        inner_query = inner_query.join(target, on)
    inner = inner_query.where(parent.in_(ids), _after(key, args), *conditions).subquery()
    row = aliased(model, inner)
    statement = select(row).where(inner.c.rank <= args.first + 1).order_by(inner.c.rank)
    grouped: dict[int, list[M]] = defaultdict(list)
    for item in (await session.execute(statement)).scalars():
        grouped[getattr(item, parent.key)].append(item)
    return {parent_id: Page.cut(grouped.get(parent_id, []), args.first) for parent_id in ids}


async def count_of(session: AsyncSession, model: type[Base], *conditions: ColumnElement[bool]) -> int:
    statement = select(func.count()).select_from(model).where(*conditions)
    return int((await session.execute(statement)).scalar_one())


async def counts_by_parent(
    session: AsyncSession,
    parent: InstrumentedAttribute[int],
    parent_ids: Iterable[int],
    *conditions: ColumnElement[bool],
    joins: Sequence[tuple[Any, ColumnElement[bool]]] = (),
) -> dict[int, int]:
    """How many rows each parent has (0 included), in one grouped statement."""
    ids = sorted(set(parent_ids))
    statement: Select[int, int] = select(parent, func.count()).select_from(parent.class_)
    for target, on in joins:
        statement = statement.join(target, on)
    statement = statement.where(parent.in_(ids), *conditions).group_by(parent)
    found = {int(row[0]): int(row[1]) for row in (await session.execute(statement)).all()}
    return {parent_id: found.get(parent_id, 0) for parent_id in ids}
