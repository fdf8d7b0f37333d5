"""JSON that the database builds, written once and compiled for PostgreSQL and for SQLite.

    json_object(literal("code"), c.code, ...)   json_build_object(...)      json_object(...)
    json_array(item, order=..., where=...)       json_agg(item ORDER BY ...)  json_group_array(item)
                                                  FILTER (WHERE ...)          FILTER (WHERE ...)
    base64url(text)                               encode(convert_to(...))     incentives_base64url(...)
    date_text(column), json_bool(column)          as PostgreSQL's JSON does   as the same text

SQLite's json_group_array takes its rows in the order the subquery gives them (SQLite 3.40 knows no
ORDER BY inside an aggregate): statements that aggregate order their subquery. SQLite has no
base64: `register_functions` gives each of its connections `incentives_base64url`.
"""

from __future__ import annotations

import base64
import sqlite3
from typing import Any

from sqlalchemy import Boolean, ColumnElement, Text, case, func, literal
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeEngine

BASE64URL = "incentives_base64url"


class json_object(FunctionElement[Any]):
    """A JSON object of alternating keys and values."""

    type: TypeEngine[Any] = Text()
    inherit_cache = True


@compiles(json_object, "postgresql")
def _json_build_object(element: json_object, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(func.json_build_object(*element.clauses), **kw)


@compiles(json_object)
def _json_object(element: json_object, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(func.json_object(*element.clauses), **kw)


class json_array(FunctionElement[Any]):
    """The JSON array of `item` over the rows of a group where `where` holds, ordered by `order`."""

    type: TypeEngine[Any] = Text()
    inherit_cache = True

    def __init__(
        self, item: ColumnElement[Any], order: ColumnElement[Any], where: ColumnElement[bool]
    ) -> None:
        super().__init__(item, order, where)


@compiles(json_array, "postgresql")
def _json_agg(element: json_array, compiler: SQLCompiler, **kw: Any) -> str:
    item, order, where = element.clauses
    aggregated = func.json_agg(aggregate_order_by(item, order)).filter(where)
    return compiler.process(sql_cast(aggregated, Text), **kw)  # the text PostgreSQL wrote


@compiles(json_array)
def _json_group_array(element: json_array, compiler: SQLCompiler, **kw: Any) -> str:
    item, _, where = element.clauses
    return compiler.process(func.json_group_array(item).filter(where), **kw)


class base64url(FunctionElement[Any]):
    """base64url of a text's UTF-8, unpadded (global ids and cursors)."""

    type: TypeEngine[Any] = Text()
    inherit_cache = True


@compiles(base64url, "postgresql")
def _pg_base64url(element: base64url, compiler: SQLCompiler, **kw: Any) -> str:
    [text] = element.clauses
    encoded = func.encode(func.convert_to(text, literal("UTF8", Text)), literal("base64", Text))
    urlsafe = func.translate(encoded, literal("+/", Text), literal("-_", Text))
    return compiler.process(func.rtrim(urlsafe, literal("=", Text)), **kw)


@compiles(base64url)
def _udf_base64url(element: base64url, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(getattr(func, BASE64URL)(*element.clauses), **kw)


class date_text(FunctionElement[Any]):
    """A date as JSON gives it: YYYY-MM-DD."""

    type: TypeEngine[Any] = Text()
    inherit_cache = True


@compiles(date_text, "postgresql")
def _pg_date_text(element: date_text, compiler: SQLCompiler, **kw: Any) -> str:
    [value] = element.clauses
    return compiler.process(func.to_char(value, literal("YYYY-MM-DD", Text)), **kw)


@compiles(date_text)
def _date_text(element: date_text, compiler: SQLCompiler, **kw: Any) -> str:
    [value] = element.clauses  # SQLite keeps dates as this text already
    return compiler.process(value, **kw)


class json_bool(FunctionElement[Any]):
    """A boolean as JSON's true or false."""

    type: TypeEngine[Any] = Boolean()
    inherit_cache = True


@compiles(json_bool, "postgresql")
def _pg_json_bool(element: json_bool, compiler: SQLCompiler, **kw: Any) -> str:
    [value] = element.clauses
    return compiler.process(value, **kw)


@compiles(json_bool)
def _json_bool(element: json_bool, compiler: SQLCompiler, **kw: Any) -> str:
    [value] = element.clauses
    written = case((value, literal("true")), (value.is_(None), literal("null")), else_=literal("false"))
    return compiler.process(func.json(written), **kw)


def _base64url(text: str | None) -> str | None:
    if text is None:
        return None
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def register_functions(connection: sqlite3.Connection) -> None:
    """What SQLite lacks of the SQL above, as functions of this connection."""
    connection.create_function(BASE64URL, 1, _base64url, deterministic=True)
