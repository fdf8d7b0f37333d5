"""Pages of enrollments as JSON that PostgreSQL builds, for the planned read on the driver.

When the selection of `Location.enrollments` asks only for its edges, their nodes and cursors,
and fields of the enrollment and its program that SQL can compute (the status each caller sees
included, rule 8), one statement returns each location's page as a JSON array: Python builds no
row, dict or status for any enrollment, and the array goes into the answer as it came
(`orjson.Fragment`). Anything else is answered from rows as before.

    found = enrollment_json(run, asked)      # None: not a selection this answers
    item, shape = found.item, found.shape    # the SQL of one edge, and what it depends on

Keys are the response keys (aliases) in the selection's order, values as the general executor
gives them: the differential tests compare the two on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Date, Integer, Text, bindparam, func, literal, not_
from sqlalchemy import cast as sql_cast
from sqlalchemy.sql import ColumnElement

from api.graphql.pagination import CURSOR_PREFIX
from api.read.collect import TYPENAME, Field
from api.read.engine import Run, returned_type
from domain.access import Coverage
from domain.queries.enrollments import covered
from domain.shown_status import shown_status_sql, tax_profile_lapsed_sql
from domain.vocabulary import ProgramStatus

Columns = Any  # a subquery's column collection
Expression = Callable[[Columns, Coverage], ColumnElement[Any]]
# One key of a JSON object: (response key, field name, its Expression or a nested object's parts).
Part = tuple[str, str, Any]


def _global_id(prefix: str, key: Callable[[Columns], ColumnElement[Any]]) -> Expression:
    """base64url of `prefix` and the key, unpadded: `to_global_id` and `encode_cursor` in SQL."""

    def expression(c: Columns, detail: Coverage) -> ColumnElement[Any]:
        text = literal(prefix, Text).concat(sql_cast(key(c), Text))
        encoded = func.encode(func.convert_to(text, literal("UTF8", Text)), literal("base64", Text))
        urlsafe = func.translate(encoded, literal("+/", Text), literal("-_", Text))
        return func.rtrim(urlsafe, literal("=", Text))

    return expression


def _status(c: Columns, detail: Coverage) -> ColumnElement[Any]:
    """The status the row shows a caller whose detail coverage is `detail` (rule 8)."""
    lapsed = tax_profile_lapsed_sql(
        c.status,
        c.fiscal_year,
        c.tax_expires_on,
        today=bindparam("today", type_=Date),
        current_year=bindparam("current_year", type_=Integer),
    )
    return shown_status_sql(
        c.status,
        program_active=c.program__status.is_not_distinct_from(ProgramStatus.ACTIVE),
        sees_detail=covered(detail, c.location_id, c.program_id),
        tax_profile_valid=not_(lapsed),
    )


def _column(name: str) -> Expression:
    return lambda c, detail: c[name]


ENROLLMENT: dict[str, Expression] = {
    "id": _global_id("Enrollment:", lambda c: c.id),
    "fiscalYear": _column("fiscal_year"),
    "status": _status,
    "earningsStartDate": lambda c, detail: func.to_char(c.earnings_start_date, literal("YYYY-MM-DD", Text)),
}
PROGRAM: dict[str, Expression] = {
    "id": _global_id("IncentiveProgram:", lambda c: c.program__id),
    "code": _column("program__code"),
    "name": _column("program__name"),
    "status": lambda c, detail: sql_cast(c.program__status, Text),
}
CURSOR = _global_id(CURSOR_PREFIX, lambda c: c.id)
# What an edge may ask: a field's Expression, or a nested object's own Spec.
Spec = dict[str, Any]
EDGE: Spec = {"cursor": CURSOR, "node": {**ENROLLMENT, "program": PROGRAM}}


@dataclass(frozen=True)
class JsonConnection:
    """How to answer one `Location.enrollments` field with JSON pages."""

    outer: list[tuple[str, str | None]]  # the connection's keys: (key, typename) or (edges key, None)
    item: Callable[[Columns, Coverage], ColumnElement[Any]]
    shape: Hashable


def enrollment_json(run: Run, asked: Field) -> JsonConnection | None:
    """The JSON plan of this `Location.enrollments` field, or None."""
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
    if edge is None or edge.selection is None:
        return None
    parts = _object(run, edge, EDGE)
    if parts is None:
        return None

    def item(c: Columns, detail: Coverage) -> ColumnElement[Any]:
        return _build(parts, c, detail)

    return JsonConnection(outer, item, _shape(parts))


def _object(run: Run, asked: Field, spec: Spec) -> list[Part] | None:
    """The parts of an object's JSON for its selection, or None when `spec` lacks a field of it."""
    if asked.selection is None:
        return None
    type_ = returned_type(asked)
    parts: list[Part] = []
    for found in asked.selection.fields_for(type_, run.variables):
        if found.name == TYPENAME:
            parts.append((found.key, type_.name, _constant(type_.name)))
            continue
        value = spec.get(found.name)
        if isinstance(value, dict):
            nested = _object(run, found, value)
            if nested is None:
                return None
            parts.append((found.key, found.name, nested))
        elif value is not None:
            parts.append((found.key, found.name, value))
        else:
            return None
    return parts


def _build(parts: list[Part], c: Columns, detail: Coverage) -> ColumnElement[Any]:
    arguments: list[Any] = []
    for key, _, value in parts:
        arguments.append(literal(key, Text))
        arguments.append(_build(value, c, detail) if isinstance(value, list) else value(c, detail))
    built: ColumnElement[Any] = func.json_build_object(*arguments)
    return built


def _shape(parts: list[Part]) -> Hashable:
    """What the SQL of `parts` depends on: keys and field names (a typename as its type's name)."""
    return tuple(
        (key, name, _shape(value) if isinstance(value, list) else None) for key, name, value in parts
    )


def _constant(value: str) -> Expression:
    return lambda c, detail: literal(value, Text)
