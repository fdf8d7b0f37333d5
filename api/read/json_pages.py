"""Pages as JSON the database builds, for a paged field whose selection it can write in SQL.

When the selection of a connection asks only for its edges, their cursors and nodes, and fields
whose declarations have a SQL form (a column, a computed field with a SQL twin such as the status
each caller is shown, an object joined into the row, another such connection), one statement
returns each parent's page as a JSON array: Python builds no row, dict or status for any item, and
the array goes into the answer as it came (`orjson.Fragment`). Anything else is answered from rows.
Both PostgreSQL and SQLite build it (`domain.queries.json_sql`, `domain.queries.pages.page_json`).

    Location.enrollments = paged(..., json=JsonPages(rows, parent, where, organization_of))

The dashboard (`organization { locations { edges { node { ... enrollments { ... } } } } }`) is so
one statement for all its locations and their enrollments. A connection inside another is of the
same organization as its parent: the caller's coverage of the parent's organization applies.

Keys are the response keys (aliases) in the selection's order, values as the general executor
gives them: the differential tests compare the two on both databases.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from graphql import GraphQLEnumType, GraphQLField, GraphQLObjectType, GraphQLScalarType, get_named_type
from sqlalchemy import ColumnElement, Text, literal
from sqlalchemy import cast as sql_cast
from sqlalchemy.sql.elements import KeyedColumnElement
from strawberry.types.field import StrawberryField

from api.graphql.declared import Asked, Column, Computed, Declared, Joined, Paged, Row
from api.graphql.pagination import BadUserInputError
from api.read.collect import TYPENAME, Field
from api.read.derived import Site, asked_with, page_of
from api.read.engine import Obj, Run, returned_type
from domain.access import Action, Coverage
from domain.fiscal import fiscal_year_of
from domain.queries.json_sql import date_text, json_bool, json_object
from domain.queries.pages import (
    BUILT,
    PageArgs,
    Rows,
    Where,
    json_pages_by_parent,
    json_pages_statement,
    page_json,
    page_shape,
    page_values,
)

Columns = Any  # a subquery's column collection


@dataclass(frozen=True)
class JsonPages:
    """How a paged source's pages are read as JSON: the rows of its items, the column of theirs that
    names their parent, which of them the caller sees (`where(asked, coverage of what it shows)`),
    and the organization a parent is of (whose coverage applies)."""

    rows: Callable[[], Rows]
    parent: KeyedColumnElement[Any]
    where: Callable[[Asked, Coverage | None], Where]
    organization_of: Callable[[Row], int]

    async def answer(self, run: Run, asked: Field, objs: list[Obj], with_page: Asked) -> bool:
        """Answer the field for these objects as JSON pages; False when its selection cannot be."""
        if not run.writes_json:
            return False
        kept = run.plan.kept
        plan_key = ("json pages", id(asked), run.plan.directive_key(run.variables))
        found = kept[plan_key] if plan_key in kept else kept.setdefault(plan_key, _plan(run, asked))
        if found is None:
            return False
        planned: Planned = found
        nested = [_asked(run, connection) for connection in planned.nested]
        if None in nested:
            return False  # a nested page's arguments are refused: the rows' path says so
        actions = planned.actions(with_page.shows)
        today = run.context.today()
        for coverages, group in self._by_coverage(run, objs, actions).items():
            env = Env(dict(zip(actions, coverages, strict=True)), planned.nested, nested)  # type: ignore[arg-type]
            values: dict[str, Any] = {"today": today, "current_year": fiscal_year_of(today), **env.values()}
            where = self.where(with_page, env.coverage(with_page.shows))
            assert with_page.page is not None
            statement = self._statement(planned, with_page.page, where, env)
            ids = [obj.row.id for obj in group]
            pages = await json_pages_by_parent(run.source, statement, ids, with_page.page, where, values)
            for obj in group:
                items = orjson.Fragment(pages[obj.row.id].items)
                obj.out[asked.key] = {key: items if name is None else name for key, name in planned.outer}
        return True

    def _by_coverage(
        self, run: Run, objs: list[Obj], actions: tuple[Action, ...]
    ) -> dict[tuple[Coverage, ...], list[Obj]]:
        """The objects grouped by the caller's coverage of each action in their organization."""
        principal = run.context.principal
        groups: dict[tuple[Coverage, ...], list[Obj]] = {}
        keys: dict[int, tuple[Coverage, ...]] = {}
        for obj in objs:
            organization_id = self.organization_of(obj.row)
            key = keys.get(organization_id)
            if key is None:
                key = keys[organization_id] = tuple(principal.coverage(a, organization_id) for a in actions)
            groups.setdefault(key, []).append(obj)
        return groups

    def _statement(self, planned: Planned, page: PageArgs, where: Where, env: Env) -> Any:
        """The statement of these pages, built once per shape."""
        rows = self.rows()
        shape = ("json pages", rows, page_shape(page), where.shape, planned.shape, env.shape())

        def item(columns: Columns) -> ColumnElement[Any]:
            return _build(planned.parts, columns, env)

        return BUILT.get(shape, lambda: json_pages_statement(rows, self.parent, page, where, item))


# --- the plan: what of a selection has a SQL form ---------------------------------------------------


class Env:
    """What the SQL of one statement is made with: the caller's coverage of each action it needs
    (in the organization the statement reads), and each nested connection's `where` and page."""

    def __init__(
        self, coverages: Mapping[Action, Coverage], nested: list[Connection], asked: list[Asked]
    ) -> None:
        self.coverages = coverages
        self.nested: dict[str, tuple[Where, PageArgs]] = {}
        for connection, within in zip(nested, asked, strict=True):
            where = connection.pages.where(within, self.coverage(within.shows)).renamed(connection.suffix)
            assert within.page is not None
            self.nested[connection.suffix] = (where, within.page)

    def coverage(self, action: Action | None) -> Coverage | None:
        return None if action is None else self.coverages[action]

    def values(self) -> dict[str, Any]:
        """The nested connections' parameters."""
        found: dict[str, Any] = {}
        for suffix, (where, page) in self.nested.items():
            found.update(where.values)
            found.update(page_values(page, suffix))
        return found

    def shape(self) -> Hashable:
        """What of it changes the statement's SQL."""
        nested = tuple(
            (suffix, page_shape(page), where.shape) for suffix, (where, page) in self.nested.items()
        )
        return (tuple(self.coverages.items()), nested)


# A key of a JSON object: a value (`sql(columns, env)`), an object joined into the row (its parts
# and its columns' prefix), or a connection of the row (`Connection`).
@dataclass(frozen=True)
class Value:
    key: str
    name: str
    sql: Callable[[Columns, Env], ColumnElement[Any]]


@dataclass(frozen=True)
class Within:
    key: str
    name: str
    parts: list[Any]
    prefix: str


@dataclass(frozen=True)
class Connection:
    key: str
    name: str
    pages: JsonPages
    field: Field
    site: Site
    outer: list[tuple[str, str | None]]  # (key, typename) or (the edges' key, None)
    parts: list[Any]
    suffix: str  # of its parameters' names


@dataclass(frozen=True)
class Planned:
    """A connection field's JSON form: its keys, an edge's parts, the actions its SQL needs the
    caller's coverage of, and the connections nested in it."""

    outer: list[tuple[str, str | None]]
    parts: list[Any]
    needs: tuple[Action, ...]
    nested: list[Connection] = field(default_factory=list)

    @property
    def shape(self) -> Hashable:
        return _shape(self.parts)

    def actions(self, shows: Action | None) -> tuple[Action, ...]:
        """Every action whose coverage the statement needs: its own, and its lists'."""
        wanted = [*self.needs, shows, *(c.site.declared.shows for c in self.nested)]
        return tuple(dict.fromkeys(action for action in wanted if action is not None))


def _plan(run: Run, asked: Field) -> Planned | None:
    needs: list[Action] = []
    nested: list[Connection] = []
    found = _connection(run, asked, needs, nested)
    if found is None:
        return None
    outer, parts = found
    return Planned(outer, parts, tuple(dict.fromkeys(needs)), nested)


def _connection(
    run: Run, asked: Field, needs: list[Action], nested: list[Connection]
) -> tuple[list[tuple[str, str | None]], list[Any]] | None:
    """A connection's keys and its edge's parts, when it asks only for edges (and __typename)."""
    if asked.selection is None:
        return None
    connection = returned_type(asked)
    outer: list[tuple[str, str | None]] = []
    edge: Field | None = None
    for found in asked.selection.fields_for(connection, run.variables):
        if found.name == TYPENAME:
            outer.append((found.key, connection.name))
        elif found.name == "edges" and edge is None:
            outer.append((found.key, None))
            edge = found
        else:
            return None
    if edge is None:
        return None
    parts = _object(run, edge, "", needs, nested)
    return None if parts is None else (outer, parts)


def _declaration(
    type_: GraphQLObjectType, name: str
) -> tuple[Declared, GraphQLField, StrawberryField] | None:
    definition = type_.fields.get(name)
    field_ = None if definition is None else (definition.extensions or {}).get("strawberry-definition")
    declared = field_.metadata.get("declared") if isinstance(field_, StrawberryField) else None
    if not isinstance(declared, Declared) or declared.guard is not None:
        return None
    assert definition is not None
    assert isinstance(field_, StrawberryField)
    return declared, definition, field_


def _object(
    run: Run, asked: Field, prefix: str, needs: list[Action], nested: list[Connection]
) -> list[Any] | None:
    """The parts of an object's JSON for its selection (its columns named `<prefix><column>`), or
    None when a field of it has no SQL form."""
    if asked.selection is None:
        return None
    type_ = returned_type(asked)
    parts: list[Any] = []
    for found in asked.selection.fields_for(type_, run.variables):
        if found.name == TYPENAME:
            parts.append(Value(found.key, type_.name, _constant(type_.name)))
            continue
        declared = _declaration(type_, found.name)
        if declared is None:
            return None
        source, definition, site = declared[0].source, declared[1], declared[2]
        if isinstance(source, Joined):
            within = _object(run, found, prefix + source.prefix, needs, nested)
            if within is None:
                return None
            parts.append(Within(found.key, found.name, within, prefix + source.prefix))
        elif isinstance(source, Paged) and isinstance(source.json, JsonPages) and not prefix:
            inner = _connection(run, found, needs, nested)
            if inner is None:
                return None
            at = Site(declared[0], site, definition, None)
            connection = Connection(
                found.key, found.name, source.json, found, at, inner[0], inner[1], f"_{len(nested) + 1}"
            )
            nested.append(connection)
            parts.append(connection)
        else:
            sql = _leaf_sql(source, definition, prefix, str(site.python_name), needs)
            if sql is None:
                return None
            parts.append(Value(found.key, found.name, sql))
    return parts


def _asked(run: Run, connection: Connection) -> Asked | None:
    """What a nested connection is asked in this run (None: its paging arguments are refused)."""
    source = connection.site.declared.source
    assert isinstance(source, Paged)
    try:
        page = page_of(run, connection.field, source.descending)
    except BadUserInputError:
        return None
    return asked_with(run, connection.field, connection.site, page)


def _leaf_sql(
    source: Any, definition: GraphQLField, prefix: str, python_name: str, needs: list[Action]
) -> Callable[[Columns, Env], ColumnElement[Any]] | None:
    if isinstance(source, Computed) and source.sql is not None:
        twin = source.sql
        needs.extend(source.sql_needs)
        return lambda c, env: twin(_Prefixed(c, prefix), env.coverages)
    if isinstance(source, Column):
        name = prefix + (source.name or python_name)
        write = _write(definition)
        return None if write is None else (lambda c, env: write(c[name]))
    return None


def _write(definition: GraphQLField) -> Callable[[ColumnElement[Any]], ColumnElement[Any]] | None:
    """A leaf column as JSON writes it (as graphql-core would serialize it); None: not in SQL."""
    named = get_named_type(definition.type)
    if isinstance(named, GraphQLEnumType):
        return lambda column: sql_cast(column, Text)
    if isinstance(named, GraphQLScalarType):
        if named.name in ("String", "Int", "ID"):
            return lambda column: column
        if named.name == "Boolean":
            return json_bool
        if named.name == "Date":
            return date_text
    return None


class _Prefixed:
    """A joined table's columns of a row, by their own names: `c.code` is `c.program__code`."""

    def __init__(self, columns: Columns, prefix: str) -> None:
        self._columns, self._prefix = columns, prefix

    def __getattr__(self, name: str) -> Any:
        return self._columns[self._prefix + name]

    def __getitem__(self, name: str) -> Any:
        return self._columns[self._prefix + name]


def _build(parts: list[Any], c: Columns, env: Env) -> ColumnElement[Any]:
    pairs: list[Any] = []
    for part in parts:
        pairs.append(literal(part.key, Text))
        if isinstance(part, Within):
            pairs.append(_build(part.parts, c, env))
        elif isinstance(part, Connection):
            pairs.append(_nested(part, c, env))
        else:
            pairs.append(part.sql(c, env))
    return json_object(*pairs)


def _nested(connection: Connection, c: Columns, env: Env) -> ColumnElement[Any]:
    """A connection of the row `c` as JSON: its page, read by a subquery of the row's."""
    where, page = env.nested[connection.suffix]
    pages = connection.pages

    def item(columns: Columns) -> ColumnElement[Any]:
        return _build(connection.parts, columns, env)

    edges = page_json(pages.rows(), pages.parent, c.id, page, where, item, suffix=connection.suffix)
    pairs: list[Any] = []
    for key, typename in connection.outer:
        pairs += [literal(key, Text), edges if typename is None else literal(typename, Text)]
    return json_object(*pairs)


def _shape(parts: list[Any]) -> Hashable:
    """What the SQL of `parts` depends on: keys and field names (a typename as its type's name)."""
    shaped: list[Hashable] = []
    for part in parts:
        if isinstance(part, Within):
            shaped.append((part.key, part.name, _shape(part.parts)))
        elif isinstance(part, Connection):
            shaped.append((part.key, part.name, part.suffix, tuple(part.outer), _shape(part.parts)))
        else:
            shaped.append((part.key, part.name))
    return tuple(shaped)


def _constant(value: str) -> Callable[[Columns, Env], ColumnElement[Any]]:
    return lambda c, env: literal(value, Text)
