"""Keyset pagination: pages of one parent, pages of N parents in one statement, grouped counts.

Keys are primary keys: ascending for most lists, descending for the audit log (newest first).
A page asks for `first + 1` rows, so whether another page follows costs no extra statement.
Paging backward (`last`/`before`) reverses the order, takes `last + 1` rows the same way and reverses
them back: the page is in the list's normal order, and whether a page precedes it is as cheap.
"""

from __future__ import annotations

import json
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from operator import itemgetter
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import (
    BigInteger,
    BindParameter,
    Boolean,
    ColumnElement,
    Row,
    Select,
    SQLColumnExpression,
    String,
    Subquery,
    and_,
    any_,
    bindparam,
    case,
    column,
    func,
    literal,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql import FromClause, visitors
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import KeyedColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator

from domain.model import Base
from domain.queries.json_sql import json_array, json_text, json_within

T = TypeVar("T")


@dataclass(frozen=True)
class PageArgs:
    """What page of a list: at most `first` rows strictly between the rows keyed `after` and `before`
    (None: no bound), the first of them; with `backward`, the last of them (Relay's `last`).
    `descending` is the list's order (the audit log's, newest first)."""

    first: int
    after: int | None = None
    descending: bool = False
    before: int | None = None
    backward: bool = False

    @property
    def reading_down(self) -> bool:
        """The order the statement reads its rows in: the list's, reversed when paging backward."""
        return self.descending != self.backward

    def cut(self, rows: Sequence[T]) -> Page[T]:
        """The page from up to `first + 1` rows read in `reading_down` order."""
        more = len(rows) > self.first
        if self.backward:
            return Page(list(reversed(rows[: self.first])), has_next=False, has_previous=more)
        return Page(list(rows[: self.first]), has_next=more)


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page, in the list's order. `has_next`: more rows follow it (known when paging forward);
    `has_previous`: more rows precede it (known when paging backward); each is False otherwise."""

    items: list[T]
    has_next: bool
    has_previous: bool = False


Bound = int | BindParameter[int] | None


class InIds(ColumnElement[bool]):
    """`column IN :name`, the parameter a list of integer ids given at execution.

    One parameter however many ids, so the statement's text (and its prepared form, and
    PostgreSQL's plan) is the same whatever their number, where an expanding IN is rendered anew
    for each count: on PostgreSQL `column = ANY(:name)`, an array; on SQLite
    `column IN (SELECT value FROM json_each(:name))`, the ids as a JSON array, which SQLite reads
    with the column's index as it does a written list (`tests/integration/test_sqlite_plans.py`).
    """

    inherit_cache = True
    type = Boolean()
    # A predicate in its own right, as SQLAlchemy's comparisons are. Left False, SQLAlchemy takes a
    # Boolean-typed element in a WHERE for a stored boolean and, where booleans are not native
    # (SQLite), compares it: `col IN (...) = 1`, which no index serves (SQLite walks the whole
    # table or index: the dashboard's enrollments page took 14.7 ms so, 1.25 ms without, in an
    # outside harness). Declared here rather than built as SQLAlchemy's own binary expression,
    # whose form (IN or = ANY) would have to be chosen before the dialect is known: a statement is
    # built once and compiled for either database.
    _is_implicitly_boolean = True
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("name", InternalTraversal.dp_string),
    ]

    def __init__(self, column: SQLColumnExpression[int], name: str) -> None:
        self.column = column
        self.name = name


class _JsonIds(TypeDecorator[list[int]]):
    """A list of ids bound as the text of a JSON array."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else json.dumps(list(value))


@compiles(InIds)
def _in_json_ids(element: InIds, compiler: SQLCompiler, **kw: Any) -> str:
    ids: Select[Any] = select(column("value")).select_from(
        func.json_each(bindparam(element.name, type_=_JsonIds()))
    )
    return compiler.process(element.column.in_(ids.scalar_subquery()), **kw)


@compiles(InIds, "postgresql")
def _any_of_ids(element: InIds, compiler: SQLCompiler, **kw: Any) -> str:
    array = bindparam(element.name, type_=ARRAY(BigInteger()))
    return compiler.process(element.column == any_(array), **kw)


def _between(
    key: SQLColumnExpression[int], after: Bound, before: Bound, descending: bool
) -> ColumnElement[bool]:
    """Keys strictly after `after` and strictly before `before` in the list's order."""
    bounds: list[ColumnElement[bool]] = []
    if after is not None:
        bounds.append(key < after if descending else key > after)
    if before is not None:
        bounds.append(key > before if descending else key < before)
    return and_(true(), *bounds)


def _bound(value: int | None, name: str) -> Bound:
    return None if value is None else bindparam(name)


def _bound_values(args: PageArgs) -> dict[str, int]:
    values = {"limit": args.first + 1}
    if args.after is not None:
        values["after"] = args.after
    if args.before is not None:
        values["before"] = args.before
    return values


def page_shape(args: PageArgs) -> Hashable:
    """What of `args` changes a statement's SQL (not the values of its parameters)."""
    return (args.reading_down, args.descending, args.after is None, args.before is None)


@dataclass(frozen=True, eq=False)
class Rows:
    """Plain rows of `table` (only the columns named in `keep`, when given), with `columns` of the
    tables `joins` brings in (labelled, e.g. `Program.code.label("program_code")`): what the read
    planner assembles answers from. Fewer columns, less to convert per row."""

    table: FromClause
    columns: Sequence[ColumnElement[Any]] = ()
    joins: Sequence[tuple[Any, ColumnElement[bool]]] = ()
    keep: Sequence[str] | None = None

    def select(self) -> Select[Any]:
        own = [self.table] if self.keep is None else [self.table.c[name] for name in self.keep]
        statement: Select[Any] = select(*own, *self.columns)
        for target, on in self.joins:
            statement = statement.outerjoin(target, on)
        return statement

    @cached_property
    def names(self) -> tuple[str, ...]:
        """The columns of its rows, in order (pages add `rank` after them)."""
        return tuple(str(column.key) for column in self.select().selected_columns)

    def get(self, name: str) -> Callable[[Any], Any]:
        """Reads column `name` of one of its rows, by position: ten times faster than `row.name`."""
        return itemgetter(self.names.index(name))

    def only(self, names: Iterable[str]) -> Rows:
        """These rows narrowed to the columns named (and `id`), and the joins those need."""
        wanted = {"id", *names}
        own = [name for name in (self.keep or [c.key for c in self.table.c]) if name in wanted]
        columns = [column for column in self.columns if column.key in wanted]
        used = {table for column in columns for table in _tables_of(column)}
        joins = [(target, on) for target, on in self.joins if _table_of(target) in used]
        return Rows(self.table, columns=tuple(columns), joins=tuple(joins), keep=tuple(own))


def _table_of(target: Any) -> Any:
    return getattr(target, "__table__", target)


def _tables_of(expression: ColumnElement[Any]) -> set[Any]:
    return {getattr(element, "table", None) for element in visitors.iterate(expression)} - {None}


def _no_conditions() -> Sequence[ColumnElement[bool]]:
    return ()


@dataclass(frozen=True, eq=False)
class Where:
    """Conditions for a statement that is built once per `shape` and then reused.

    `build()` makes the conditions, with `bindparam(name)` for anything that varies beyond the
    shape; `values` gives those parameters for this run. Two `Where`s of the same shape must build
    the same SQL.
    """

    shape: Hashable = ()
    build: Callable[[], Sequence[ColumnElement[bool]]] = _no_conditions
    values: Mapping[str, Any] = field(default_factory=dict)

    def renamed(self, suffix: str) -> Where:
        """The same conditions with each of its parameters named `<name><suffix>` (for a statement
        that holds it beside another `Where` of the same names)."""
        if not suffix:
            return self

        def build() -> Sequence[ColumnElement[bool]]:
            def rename(element: Any, **kw: Any) -> Any:
                if isinstance(element, BindParameter) and element.key in self.values:
                    return bindparam(element.key + suffix, type_=element.type)
                return None

            renamed: list[ColumnElement[bool]] = [
                visitors.replacement_traverse(condition, {}, rename) for condition in self.build()
            ]
            return renamed

        values = {name + suffix: value for name, value in self.values.items()}
        return Where((self.shape, suffix), build, values)


EVERYWHERE = Where()


class Built:
    """Statements by shape, least recently used out: building a statement (its subqueries, their
    column collections) costs more Python than running one, and a reused statement also skips
    SQLAlchemy's cache-key computation."""

    def __init__(self, capacity: int = 1024) -> None:
        self._statements: OrderedDict[Hashable, Any] = OrderedDict()
        self._capacity = capacity

    def get(self, key: Hashable, build: Callable[[], Any]) -> Any:
        found = self._statements.get(key)
        if found is None:
            found = self._statements[key] = build()
            if len(self._statements) > self._capacity:
                self._statements.popitem(last=False)
        else:
            self._statements.move_to_end(key)
        return found


BUILT = Built()


class RowReader(Protocol):
    """Runs a built statement (`BUILT`) and returns its rows, as named tuples: what the planned read
    uses on PostgreSQL instead of a session (`adapters.driver_reads`)."""

    async def rows(self, statement: Select[Any], values: Mapping[str, Any]) -> Sequence[Any]: ...


Source = AsyncSession | RowReader


async def _rows(source: Source, statement: Select[Any], values: Mapping[str, Any]) -> Sequence[Any]:
    if isinstance(source, AsyncSession):
        found: Sequence[Any] = (await (await source.connection()).execute(statement, values)).all()
        return found
    return await source.rows(statement, values)


@lru_cache(maxsize=1024)
def _position(statement: Select[Any], name: str) -> int:
    return [column.key for column in statement.selected_columns].index(name)


async def rows_by_ids(session: Source, rows: Rows, ids: Iterable[int]) -> dict[int, Row[Any]]:
    """`rows` of these ids, by id (one statement; none when there are no ids)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    if len(wanted) == 1:
        # `id = $1`, not `id = ANY($1)`: PostgreSQL plans a prepared statement again at every run
        # while it expects a generic plan to cost more, as it does for an array of unknown length
        # (measured on `node`: a third of a millisecond of its CPU per request, three times the read).
        one = BUILT.get(("by one id", rows), lambda: rows.select().where(rows.table.c.id == bindparam("id")))
        return {row.id: row for row in await _rows(session, one, {"id": wanted[0]})}
    statement = BUILT.get(("by id", rows), lambda: rows.select().where(InIds(rows.table.c.id, "ids")))
    return {row.id: row for row in await _rows(session, statement, {"ids": wanted})}


async def rows_by_parent(
    source: Source,
    rows: Rows,
    parent: KeyedColumnElement[Any],
    parent_ids: Iterable[int],
    *,
    newest: bool = False,
) -> dict[int, list[Row[Any]]]:
    """Every row of each parent (`newest`: only its newest, the greatest id), in id order, in ONE
    statement."""
    ids = sorted(set(parent_ids))
    if not ids:
        return {}

    def build() -> Select[Any]:
        key = rows.table.c.id
        among: ColumnElement[bool] = InIds(parent, "ids")
        if newest:
            newest_ids = select(func.max(key)).where(among).group_by(parent).scalar_subquery()
            among = key.in_(newest_ids)
        return rows.select().where(among).order_by(key)

    statement = BUILT.get(("by parent", rows, parent, newest), build)
    grouped: dict[int, list[Row[Any]]] = {parent_id: [] for parent_id in ids}
    at = _position(statement, str(parent.key))
    for row in await _rows(source, statement, {"ids": ids}):
        grouped[row[at]].append(row)
    return grouped


async def row_pages_by_parent(
    session: Source,
    rows: Rows,
    parent: KeyedColumnElement[Any],
    parent_ids: Iterable[int],
    args: PageArgs,
    where: Where = EVERYWHERE,
) -> dict[int, Page[Row[Any]]]:
    """The same page of each parent's rows, in ONE statement (ROW_NUMBER per parent)."""
    ids = sorted(set(parent_ids))

    def build() -> Select[Any]:
        inner = _ranked_pages(rows, parent, args, where)
        return select(inner).where(inner.c.rank <= bindparam("limit")).order_by(inner.c.rank)

    statement = BUILT.get(("pages", rows, parent, page_shape(args), where.shape), build)
    values = {**where.values, "ids": ids, **_bound_values(args)}
    grouped: dict[int, list[Row[Any]]] = defaultdict(list)
    at = _position(statement, str(parent.key))
    for row in await _rows(session, statement, values):
        grouped[row[at]].append(row)
    return {parent_id: args.cut(grouped.get(parent_id, [])) for parent_id in ids}


@dataclass(frozen=True)
class JsonPage:
    """One parent's page as JSON text that the database built (`json_pages_by_parent`)."""

    items: str  # a JSON array
    has_next: bool
    has_previous: bool = False


def json_pages_statement(
    rows: Rows,
    parent: KeyedColumnElement[Any],
    args: PageArgs,
    where: Where,
    item: Callable[[Any], ColumnElement[Any]],
) -> Select[Any]:
    """For each parent given as `ids` (read from the table `parent` refers to), its page of `rows` as
    one JSON array of `item(columns)` that the database builds, in the list's order, behind a "+"
    when another page lies beyond it (`page_json`). Parameters: `ids`, and those of `page_values`."""
    [foreign] = parent.foreign_keys
    parents = foreign.column.table.alias("parent")
    page = page_json(rows, parent, parents.c.id, args, where, item, more=True)
    return select(parents.c.id, page.label("items")).where(InIds(parents.c.id, "ids"))


def page_json(
    rows: Rows,
    parent: KeyedColumnElement[Any],
    parent_key: ColumnElement[Any],
    args: PageArgs,
    where: Where,
    item: Callable[[Any], ColumnElement[Any]],
    *,
    more: bool = False,
    suffix: str = "",
) -> ColumnElement[Any]:
    """The page of `rows` whose `parent` is `parent_key` (a column of the statement around it), as
    the JSON array of `item(columns)` in the list's order; with `more`, as text behind a "+" when
    another page lies beyond it, else as JSON to put inside other JSON.

    The page is its own indexed read (`parent = key ORDER BY id LIMIT n`, a correlated subquery).
    With `more`, it reads `first + 1` rows, numbered in reading order: the first `first` make the
    array, and the last tells whether another page lies beyond. Without, it reads `first` rows and
    numbers none (on SQLite the numbering took a quarter of a dashboard's statement). No row of the
    list beyond the page is read, ranked or converted, and only the columns `item` reads are
    selected. Parameters (`page_values`): `first`, `limit`, `after`, `before`, each named with
    `suffix`, and those of `where` (to be `renamed` with the same suffix)."""
    narrowed = rows.only(_read_by(item, rows.select().subquery()))
    key = narrowed.table.c.id
    after, before = _bound(args.after, "after" + suffix), _bound(args.before, "before" + suffix)
    between = _between(key, after, before, args.descending)
    reading = key.desc() if args.reading_down else key.asc()
    first: BindParameter[int] = bindparam("first" + suffix)
    read = narrowed.select().where(parent == parent_key, between, *where.build()).order_by(reading)
    if more:
        read = read.add_columns(func.row_number().over(order_by=reading).label("n"))
    page = read.limit(bindparam("limit" + suffix) if more else first).correlate(parent_key.table).subquery()
    # In the list's order: PostgreSQL's aggregate orders itself; SQLite's takes its rows as they
    # come, so a backward page (read in reverse) is put back in order first.
    listed = page
    if args.backward:
        listed = select(page).order_by(page.c.id.desc() if args.descending else page.c.id.asc()).subquery()
    order = listed.c.id.desc() if args.descending else listed.c.id.asc()
    if not more:
        items = json_array(item(listed.c), order, true())
        return json_within(select(items).select_from(listed).scalar_subquery())
    items = json_array(item(listed.c), order, listed.c.n <= first)
    behind = case((func.count() > first, literal("+", String)), else_=literal("", String))
    text = behind.concat(func.coalesce(json_text(items), literal("[]", String)))
    return select(text).select_from(listed).scalar_subquery()


def page_values(args: PageArgs, suffix: str = "") -> dict[str, int]:
    """The parameters of a `page_json` of `args`."""
    return {name + suffix: value for name, value in {"first": args.first, **_bound_values(args)}.items()}


def _read_by(item: Callable[[Any], ColumnElement[Any]], sample: Subquery) -> set[str]:
    """The columns of `sample` that `item` reads (or asks for: a condition may leave one out)."""
    asked = _Asked(sample.c)
    built = item(asked)
    read = {
        str(getattr(c, "key", "")) for c in visitors.iterate(built) if getattr(c, "table", None) is sample
    }
    return read | asked.names


class _Asked:
    """A subquery's columns that remember which were asked for."""

    def __init__(self, columns: Any) -> None:
        self._columns = columns
        self.names: set[str] = set()

    def __getitem__(self, name: str) -> Any:
        self.names.add(name)
        return self._columns[name]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]


async def json_pages_by_parent(
    source: Source,
    statement: Select[Any],
    parent_ids: Iterable[int],
    args: PageArgs,
    where: Where = EVERYWHERE,
    values: Mapping[str, Any] | None = None,
) -> dict[int, JsonPage]:
    """Each parent's page as JSON (a statement of `json_pages_statement`, built once per shape);
    `values` for parameters of its items."""
    ids = sorted(set(parent_ids))
    values = {**(values or {}), **where.values, "ids": ids, **page_values(args)}
    found = {row[0]: row[1] for row in await _rows(source, statement, values)}
    pages = {}
    backward = args.backward
    for parent_id in ids:
        text = found.get(parent_id) or "[]"
        more = text.startswith("+")
        items = text[1:] if more else text
        pages[parent_id] = JsonPage(items, has_next=more and not backward, has_previous=more and backward)
    return pages


async def row_page(session: Source, rows: Rows, args: PageArgs, where: Where = EVERYWHERE) -> Page[Row[Any]]:
    """One page of the rows meeting `where`, keyed on the table's `id`."""

    def build() -> Select[Any]:
        key = rows.table.c.id
        order = key.desc() if args.reading_down else key.asc()
        between = _between(key, _bound(args.after, "after"), _bound(args.before, "before"), args.descending)
        return rows.select().where(between, *where.build()).order_by(order).limit(bindparam("limit"))

    statement = BUILT.get(("page", rows, page_shape(args), where.shape), build)
    values = {**where.values, **_bound_values(args)}
    return args.cut(await _rows(session, statement, values))


def _ranked_pages(rows: Rows, parent: KeyedColumnElement[Any], args: PageArgs, where: Where) -> Subquery:
    """The rows of the pages of the parents given as `ids`, each with its rank within its parent
    (1 = first read, the last of the list when paging backward); parameters as `row_pages_by_parent`."""
    key = rows.table.c.id
    order = key.desc() if args.reading_down else key.asc()
    ranked = rows.select().add_columns(
        func.row_number().over(partition_by=parent, order_by=order).label("rank")
    )
    between = _between(key, _bound(args.after, "after"), _bound(args.before, "before"), args.descending)
    return ranked.where(InIds(parent, "ids"), between, *where.build()).subquery()


async def count_of(session: AsyncSession, model: type[Base], *conditions: ColumnElement[bool]) -> int:
    statement = select(func.count()).select_from(model).where(*conditions)
    return int((await session.execute(statement)).scalar_one())


async def counts_by_parent(
    session: AsyncSession,
    parent: InstrumentedAttribute[int] | KeyedColumnElement[int],
    parent_ids: Iterable[int],
    *conditions: ColumnElement[bool],
    joins: Sequence[tuple[Any, ColumnElement[bool]]] = (),
) -> dict[int, int]:
    """How many rows each parent has (0 included), in one grouped statement."""
    ids = sorted(set(parent_ids))
    table = parent.class_ if isinstance(parent, InstrumentedAttribute) else parent.table
    statement: Select[int, int] = select(parent, func.count()).select_from(table)
    for target, on in joins:
        statement = statement.join(target, on)
    statement = statement.where(parent.in_(ids), *conditions).group_by(parent)
    found = {int(row[0]): int(row[1]) for row in (await session.execute(statement)).all()}
    return {parent_id: found.get(parent_id, 0) for parent_id in ids}
