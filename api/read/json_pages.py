"""Pages as JSON the database builds, for a paged field whose selection it can write in SQL.

When the selection of a connection asks only for its edges, their cursors and nodes, and fields
whose declarations have a SQL form (a column, a computed field with a SQL twin such as the status
each caller is shown, an object joined into the row), one statement returns each parent's page as
a JSON array: Python builds no row, dict or status for any item, and the array goes into the answer
as it came (`orjson.Fragment`). Anything else is answered from rows. Both PostgreSQL and SQLite
build it (`domain.queries.json_sql`).

    Location.enrollments = paged(..., json=JsonPages(read_enrollment_json_pages))

Keys are the response keys (aliases) in the selection's order, values as the general executor
gives them: the differential tests compare the two on both databases.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
)
from sqlalchemy import ColumnElement, Text, literal
from sqlalchemy import cast as sql_cast
from strawberry.types.field import StrawberryField

from api.graphql.declared import Asked, Column, Computed, Declared, Joined
from api.read.collect import TYPENAME, Field
from api.read.engine import Obj, Run, returned_type
from domain.access import Action, Coverage
from domain.fiscal import fiscal_year_of
from domain.queries.json_sql import date_text, json_bool, json_object
from domain.queries.pages import JsonPage, Source

Columns = Any  # a subquery's column collection
Coverages = Mapping[Action, Coverage]
# One key of a JSON object: (response key, field name, its SQL, or a nested object's parts).
Part = tuple[str, str, Any]
ReadJson = Callable[
    [
        Source,
        list[int],
        Asked,
        Coverage,
        Callable[[Columns], ColumnElement[Any]],
        Hashable,
        Mapping[str, Any],
    ],
    Awaitable[Mapping[int, JsonPage]],
]


@dataclass(frozen=True)
class JsonPages:
    """How a paged source reads pages as JSON: `read(source, parent ids, asked, coverage of what it
    shows, item, item's shape, parameters)`, parents of one coverage at a time."""

    read: ReadJson

    async def answer(self, run: Run, asked: Field, objs: list[Obj], with_page: Asked) -> bool:
        """Answer the field for these objects as JSON pages; False when its selection cannot be."""
        if not run.writes_json:
            return False
        kept = run.plan.kept
        plan_key = ("json pages", id(asked), run.plan.directive_key(run.variables))
        planned = kept[plan_key] if plan_key in kept else kept.setdefault(plan_key, _plan(run, asked))
        if planned is None:
            return False
        outer, parts, needs = planned
        principal = run.context.principal
        assert with_page.shows is not None
        groups: dict[tuple[Coverage, tuple[Coverage, ...]], list[Obj]] = {}
        keys: dict[int, tuple[Coverage, tuple[Coverage, ...]]] = {}
        for obj in objs:
            organization_id = obj.row.organization_id
            key = keys.get(organization_id)
            if key is None:
                key = keys[organization_id] = (
                    principal.coverage(with_page.shows, organization_id),
                    tuple(principal.coverage(action, organization_id) for action in needs),
                )
            groups.setdefault(key, []).append(obj)
        today = run.context.today()
        values = {"today": today, "current_year": fiscal_year_of(today)}
        for (coverage, detail), group in groups.items():
            coverages = dict(zip(needs, detail, strict=True))

            def item(columns: Columns, coverages: Coverages = coverages) -> ColumnElement[Any]:
                return _build(parts, columns, coverages)

            shape = (_shape(parts), detail)
            pages = await self.read(
                run.source, [obj.row.id for obj in group], with_page, coverage, item, shape, values
            )
            for obj in group:
                page = pages[obj.row.id]
                obj.out[asked.key] = {
                    key: orjson.Fragment(page.items) if typename is None else typename
                    for key, typename in outer
                }
        return True


def _plan(
    run: Run, asked: Field
) -> tuple[list[tuple[str, str | None]], list[Part], tuple[Action, ...]] | None:
    """The connection's keys, an edge's parts, and the actions its SQL needs coverage of; or None."""
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
    needs: list[Action] = []
    parts = _object(run, edge, "", needs)
    return None if parts is None else (outer, parts, tuple(dict.fromkeys(needs)))


def _declaration(type_: GraphQLObjectType, name: str) -> tuple[Declared, GraphQLField] | None:
    definition = type_.fields.get(name)
    field_ = None if definition is None else (definition.extensions or {}).get("strawberry-definition")
    declared = field_.metadata.get("declared") if isinstance(field_, StrawberryField) else None
    if not isinstance(declared, Declared) or declared.guard is not None:
        return None
    assert definition is not None
    return declared, definition


def _object(run: Run, asked: Field, prefix: str, needs: list[Action]) -> list[Part] | None:
    """The parts of an object's JSON for its selection (its columns named `<prefix><column>`), or
    None when a field of it has no SQL form."""
    if asked.selection is None:
        return None
    type_ = returned_type(asked)
    parts: list[Part] = []
    for found in asked.selection.fields_for(type_, run.variables):
        if found.name == TYPENAME:
            parts.append((found.key, TYPENAME, _constant(type_.name)))
            continue
        declared = _declaration(type_, found.name)
        if declared is None:
            return None
        source, definition = declared[0].source, declared[1]
        if isinstance(source, Joined):
            nested = _object(run, found, prefix + source.prefix, needs)
            if nested is None:
                return None
            parts.append((found.key, found.name, nested))
            continue
        sql = _leaf_sql(source, definition, prefix, str(_python_name(definition, found.name)), needs)
        if sql is None:
            return None
        parts.append((found.key, found.name, sql))
    return parts


def _python_name(definition: GraphQLField, name: str) -> str:
    field_ = (definition.extensions or {}).get("strawberry-definition")
    return str(field_.python_name) if isinstance(field_, StrawberryField) else name


def _leaf_sql(
    source: Any, definition: GraphQLField, prefix: str, python_name: str, needs: list[Action]
) -> Any:
    if isinstance(source, Computed) and source.sql is not None:
        twin = source.sql
        needs.extend(source.sql_needs)
        return lambda c, coverages: twin(_Prefixed(c, prefix), coverages)
    if isinstance(source, Column):
        name = prefix + (source.name or python_name)
        write = _write(definition)
        return None if write is None else (lambda c, coverages: write(c[name]))
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


def _build(parts: list[Part], c: Columns, coverages: Coverages) -> ColumnElement[Any]:
    pairs: list[Any] = []
    for key, _, value in parts:
        pairs.append(literal(key, Text))
        pairs.append(_build(value, c, coverages) if isinstance(value, list) else value(c, coverages))
    return json_object(*pairs)


def _shape(parts: list[Part]) -> Hashable:
    """What the SQL of `parts` depends on: keys and field names (a typename as its type's name)."""
    return tuple(
        (key, name, _shape(value) if isinstance(value, list) else None) for key, name, value in parts
    )


def _constant(value: str) -> Callable[[Columns, Coverages], ColumnElement[Any]]:
    return lambda c, coverages: literal(value, Text)
