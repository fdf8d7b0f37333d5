"""Each field of the schema declared once: what it reads (its source), who may read it (from the one
policy table, `domain.access`) and what it means. Strawberry's resolvers (`api.graphql.resolvers`)
and the planned read (`api.read.derived`) are both made from the declaration; neither is written
by hand. The functions a type's class body declares its fields with are in `api.graphql.fields`.

Every object type wraps the row it is read from (`row`): a row of the read model, an entity, a
value of the domain. The sources, each a way to read a field for every object of a level at once:

    Column      an attribute of the row
    Computed    a function of the row (and of who asks): no SQL, never fails; maybe with a SQL twin
    Joined      an object whose row is part of this row (its columns prefixed)
    Batch       an async function of a level's rows (one statement for all of them, or a call out)
    Paged       a connection: a page of each row's list, counted only when asked
    Resolved    a Strawberry resolver of its own (mutations, subscriptions): never planned
    Held        a value the Python object holds (a mutation's payload): never planned

A `Guard` refuses the field (FORBIDDEN, null at its path) where its action does not hold for the
row; `shows` names the action whose coverage a list's source filters its items by.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from operator import itemgetter
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from sqlalchemy import ColumnElement, FromClause
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import Action, Actor, Coverage, Scope, requirement
from domain.queries.pages import Page, PageArgs, Rows, Source, rows_by_ids

if TYPE_CHECKING:
    from api.graphql.context import Context

Row = Any
Args = Mapping[str, Any]  # a field's arguments by Python name; optional ones left out are absent
DECLARED = "declared"  # where a StrawberryField keeps its declaration (its metadata)


class Reading(Protocol):
    """What a source reads with: the request's context (its caller and clock) and the database."""

    @property
    def context(self) -> Context: ...

    @property
    def source(self) -> Source:
        """Where row statements run (`domain.queries.pages`)."""
        ...

    @property
    def session(self) -> AsyncSession:
        """Where ORM statements run."""
        ...


@dataclass(frozen=True, slots=True)
class Typed:
    """A value of an abstract type (`Node`), with its concrete type's name."""

    type_name: str
    row: Row


def anywhere(row: Row) -> Scope:
    return Scope()


@dataclass(frozen=True)
class Guard:
    """FORBIDDEN (null, with an error at the field's path) unless `action` holds at `scope(row)`."""

    action: Action
    scope: Callable[[Row], Scope | None] = anywhere  # None: nowhere

    def allows(self, caller: Actor, row: Row) -> bool:
        scope = self.scope(row)
        return scope is not None and caller.can(self.action, scope)


# --- sources ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """An attribute of the row: `row.<name>` (None: the field's Python name)."""

    name: str | None = None


# A computed field in SQL, for the rows of one statement: their columns (a subquery's), and the
# caller's coverage of each action of `Computed.sql_needs` in the organization those rows are of.
SqlTwin = Callable[[Any, Mapping[Action, Coverage]], ColumnElement[Any]]


@dataclass(frozen=True)
class Computed:
    """A function of the row: `make(context)` gives it for one request (who asks, which day); with
    `caller_free`, `make` reads nothing of the context. `sql`, when given, is its SQL twin."""

    make: Callable[[Context], Callable[[Row], Any]]
    caller_free: bool = False
    sql: SqlTwin | None = None
    sql_needs: tuple[Action, ...] = ()


@dataclass(frozen=True, eq=False)
class Joined:
    """An object of type `type_name` whose row is part of this row: its columns joined (`on`) into
    this type's rows as `<prefix><column>` (None: the row itself, as an edge's node)."""

    type_name: str | None = None
    on: Any = None  # the join's condition, between this type's table and the object's
    prefix: str = ""

    def reader(self, within: Rows | None) -> Callable[[Row], Row | None]:
        """`read(row)`: the object's row, read off a row of `within` (None: no such object)."""
        if self.type_name is None:
            return _itself
        joined = TYPES[self.type_name].rows
        assert within is not None
        assert joined is not None
        make = namedtuple(f"{self.type_name}Row", joined.names)._make  # type: ignore[attr-defined]
        # Its columns in one call (an itemgetter of several positions gives a tuple), not one each.
        positions = [within.names.index(self.prefix + name) for name in joined.names]
        columns = itemgetter(*positions) if len(positions) > 1 else lambda row: (row[positions[0]],)
        key = within.get(self.prefix + "id")
        return lambda row: None if key(row) is None else make(columns(row))


def _itself(row: Row) -> Row:
    return row


class Asked(NamedTuple):
    """What a field was asked with: its arguments (by Python name; paging's apart), the action whose
    coverage its list shows (`Declared.shows`), and the page of a connection. (A named tuple: one
    is made for every field a request asks.)"""

    args: Args
    shows: Action | None = None
    page: PageArgs | None = None


# `fetch(reading, rows, asked)`: the values (pages, counts) for a level's rows, in their order.
Fetch = Callable[["Reading", Sequence[Row], Asked], Awaitable[Sequence[Any]]]
FetchPages = Callable[["Reading", Sequence[Row], Asked], Awaitable[Sequence[Page[Row]]]]


@dataclass(frozen=True)
class Batch:
    """The field's values for a level's rows, in their order (an `Exception` fails that row's field)."""

    fetch: Fetch


@dataclass(frozen=True)
class Paged:
    """A connection: each row's page (`pages`), and each row's whole count (`counts`, only when
    asked). `json`: how a page is read as JSON the database builds (`api.read.json_pages`)."""

    pages: FetchPages
    counts: Fetch
    descending: bool = False
    json: Any = None


@dataclass(frozen=True)
class Resolved:
    """A Strawberry resolver of its own (a mutation, a subscription): the planned read never answers it."""


@dataclass(frozen=True)
class Held:
    """A value the Python object holds (a mutation's payload): read by Strawberry only."""


Source_ = Column | Computed | Joined | Batch | Paged | Resolved | Held


@dataclass(frozen=True)
class Argument:
    """A field argument: its annotation (`Annotated[..., strawberry.argument(...)]`) and default."""

    annotation: Any
    default: Any = ...  # ...: required
    leads: bool = False  # listed before a connection's paging arguments


@dataclass(frozen=True, eq=False)
class Declared:
    """One field: its source, its guard (or the action whose coverage its list shows), its meaning."""

    source: Source_
    description: str
    guard: Guard | None = None
    shows: Action | None = None
    signed_in: bool = False  # requires being signed in, and nothing of its type (root fields)
    arguments: Mapping[str, Argument] = field(default_factory=dict)

    @property
    def access(self) -> Action | bool | None:
        """The action it requires (None: any signed-in caller; False: what its type requires)."""
        if self.guard is not None:
            return self.guard.action
        if self.shows is not None:
            return self.shows
        return None if self.signed_in else False

    @property
    def full_description(self) -> str:
        """The description the schema prints: with who may read it, when the field says."""
        access = self.access
        if access is False:
            return self.description
        return f"{self.description} {requirement(access if isinstance(access, Action) else None)}"


def declaration(field_: Any) -> Declared | None:
    """A StrawberryField's declaration, if it has one."""
    found = getattr(field_, "metadata", {}).get(DECLARED)
    return found if isinstance(found, Declared) else None


# Every declaration made (the gap test checks each is a field of the schema).
DECLARATIONS: list[Declared] = []


# --- types --------------------------------------------------------------------------------------------


ById = Callable[[Source, Sequence[int]], Awaitable[Mapping[int, Row]]]


@dataclass(eq=False)
class TypeDeclared:
    """An object type: who may see its objects (`guard`; None: any signed-in caller; descriptions,
    `node` and subscriptions follow it), and the read model's rows of it, when it reads a table.

    Its rows (`rows`) are derived from its fields: the table's `id`, the columns its guard and its
    computed fields read (`reads`), each column a field declares, `columns` of other tables
    (`joins`), and the columns of each object joined into it (`Joined`). The planned read reads them
    by position; `node` reads them by id (`by_id`, unless given).
    """

    guard: Guard | None
    cls: type
    table: FromClause | None = None
    reads: tuple[str, ...] = ()
    columns: tuple[ColumnElement[Any], ...] = ()
    joins: tuple[tuple[Any, ColumnElement[bool]], ...] = ()
    read_by_id: ById | None = None
    is_node: bool = False  # `node` reads its objects by id

    def visible(self, context: Context, row: Row) -> bool:
        return self.guard is None or self.guard.allows(context.principal, row)

    def declarations(self) -> list[tuple[str, Declared]]:
        """Its fields' (Python name, declaration), in order."""
        fields = self.cls.__strawberry_definition__.fields  # type: ignore[attr-defined]
        return [(str(f.python_name), found) for f in fields if (found := declaration(f)) is not None]

    @cached_property
    def rows(self) -> Rows | None:
        if self.table is None:
            return None
        declared, joined, joins = [], [], list(self.joins)
        for name, found in self.declarations():
            source = found.source
            if isinstance(source, Column):
                declared.append(source.name or name)
            elif isinstance(source, Joined) and source.type_name is not None:
                other = TYPES[source.type_name].rows
                assert other is not None
                assert not other.columns, "a joined object's rows are its table's"
                joined += [other.table.c[column].label(source.prefix + column) for column in other.names]
                if all(target is not other.table for target, _ in joins):
                    joins.append((other.table, source.on))
        keep = tuple(dict.fromkeys(("id", *self.reads, *declared)))
        return Rows(self.table, columns=(*self.columns, *joined), joins=tuple(joins), keep=keep)

    @cached_property
    def by_id(self) -> ById | None:
        if not self.is_node or self.read_by_id is not None or self.rows is None:
            return self.read_by_id
        rows = self.rows

        async def read(source: Source, ids: Sequence[int]) -> Mapping[int, Row]:
            return await rows_by_ids(source, rows, ids)

        return read


# Every declared object type, by GraphQL name, and its Strawberry class.
TYPES: dict[str, TypeDeclared] = {}
CLASSES: dict[str, type] = {}


@dataclass(frozen=True, slots=True)
class ConnectionRow:
    """The row of a connection object: one parent's page, and what counting its list takes (the
    field's source and what it was asked, without the page)."""

    page: Page[Row]
    parent: Row
    paged: Paged
    asked: Asked

    @classmethod
    def of(cls, page: Page[Row], parent: Row, paged: Paged, asked: Asked) -> ConnectionRow:
        return cls(page, parent, paged, Asked(asked.args, asked.shows))

    @property
    def count_key(self) -> Hashable:
        return (id(self.paged), frozen(self.asked.args), self.asked.shows)


async def count_connections(reading: Reading, rows: Sequence[Row], asked: Asked) -> list[int]:
    """`totalCount` of connections: one `counts` call for all those of one field and arguments."""
    groups: dict[Hashable, list[int]] = {}
    for index, row in enumerate(rows):
        groups.setdefault(row.count_key, []).append(index)
    found = [0] * len(rows)
    for indexes in groups.values():
        first: ConnectionRow = rows[indexes[0]]
        counts = await first.paged.counts(reading, [rows[i].parent for i in indexes], first.asked)
        for index, count in zip(indexes, counts, strict=True):
            found[index] = count
    return found


def frozen(args: Args) -> Hashable:
    """Hashable arguments (lists as tuples), to key loaders and counts by."""
    return tuple(
        sorted((name, tuple(value) if isinstance(value, list) else value) for name, value in args.items())
    )
