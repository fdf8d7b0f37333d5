"""JSON that the database builds, written once and compiled for PostgreSQL and for SQLite.

    json_object(literal("code"), c.code, ...)   json_build_object(...)       json_object(...)
    json_array(item, order, where)              json_agg(item ORDER BY ...)  json_group_array(item)
                                                FILTER (WHERE ...)           FILTER (WHERE ...)
    base64url(text)                             encode(convert_to(...))      incentives_base64url(...)
    date_text(column), json_bool(column)        as PostgreSQL's JSON writes  the same text

SQLite's json_group_array takes its rows in the order the subquery gives them (SQLite 3.40 knows no
ORDER BY inside an aggregate): statements that aggregate order their subquery. SQLite has no
base64: `register_functions` gives each of its connections `incentives_base64url`.
"""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Callable
from typing import Any, ClassVar

from sqlalchemy import JSON, Boolean, ColumnElement, Text, case, func, literal
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeEngine

BASE64URL = "incentives_base64url"
Written = Callable[..., ColumnElement[Any]]


class _ByDialect(FunctionElement[Any]):
    """A function of its clauses written as `postgresql(*clauses)` on PostgreSQL and as
    `elsewhere(*clauses)` on SQLite."""

    type: TypeEngine[Any] = Text()
    inherit_cache = True
    postgresql: ClassVar[Written]
    elsewhere: ClassVar[Written]


@compiles(_ByDialect, "postgresql")
def _on_postgresql(element: _ByDialect, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(type(element).postgresql(*element.clauses), **kw)


@compiles(_ByDialect)
def _elsewhere(element: _ByDialect, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(type(element).elsewhere(*element.clauses), **kw)


def _json_agg(item: Any, order: Any, where: Any) -> ColumnElement[Any]:
    return func.json_agg(aggregate_order_by(item, order)).filter(where)


def _pg_base64url(text: Any) -> ColumnElement[Any]:
    encoded = func.encode(func.convert_to(text, literal("UTF8", Text)), literal("base64", Text))
    urlsafe = func.translate(encoded, literal("+/", Text), literal("-_", Text))
    return func.rtrim(urlsafe, literal("=", Text))


def _sqlite_json_bool(value: Any) -> ColumnElement[Any]:
    written = case((value, literal("true")), (value.is_(None), literal("null")), else_=literal("false"))
    return func.json(written)


class json_object(_ByDialect):
    """A JSON object of alternating keys and values."""

    inherit_cache = True

    postgresql = staticmethod(func.json_build_object)
    elsewhere = staticmethod(func.json_object)


class json_array(_ByDialect):
    """The JSON array of `item` over the rows of a group where `where` holds, ordered by `order`
    (SQLite's takes the rows in the order they come, which its statement orders so); NULL when no
    row is in it on PostgreSQL, `[]` on SQLite. JSON: `json_text` for its text."""

    inherit_cache = True

    postgresql = staticmethod(_json_agg)
    elsewhere = staticmethod(lambda item, order, where: func.json_group_array(item).filter(where))

    def __init__(self, item: ColumnElement[Any], order: Any, where: ColumnElement[bool]) -> None:
        super().__init__(item, order, where)


class json_text(_ByDialect):
    """JSON as the text the database wrote (what goes into an answer as it came)."""

    inherit_cache = True

    postgresql = staticmethod(lambda value: sql_cast(value, Text))
    elsewhere = staticmethod(lambda value: value)


class json_within(_ByDialect):
    """A JSON array a subquery gives, to put inside other JSON: `[]` when it is NULL. (SQLite's
    JSON loses its kind through a subquery, so it is read as JSON again.)"""

    inherit_cache = True

    postgresql = staticmethod(lambda value: func.coalesce(value, sql_cast(literal("[]"), JSON)))
    elsewhere = staticmethod(lambda value: func.json(func.coalesce(value, literal("[]"))))


class base64url(_ByDialect):
    """base64url of a text's UTF-8, unpadded (global ids and cursors)."""

    inherit_cache = True

    postgresql = staticmethod(_pg_base64url)
    elsewhere = staticmethod(getattr(func, BASE64URL))


class date_text(_ByDialect):
    """A date as JSON gives it: YYYY-MM-DD (SQLite keeps dates as this text already)."""

    inherit_cache = True

    postgresql = staticmethod(lambda value: func.to_char(value, literal("YYYY-MM-DD", Text)))
    elsewhere = staticmethod(lambda value: value)


class json_bool(_ByDialect):
    """A boolean as JSON's true or false (SQLite's JSON would write 1 or 0)."""

    inherit_cache = True

    type = Boolean()
    postgresql = staticmethod(lambda value: value)
    elsewhere = staticmethod(_sqlite_json_bool)


def _base64url(text: str | None) -> str | None:
    if text is None:
        return None
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def register_functions(connection: sqlite3.Connection) -> None:
    """What SQLite lacks of the SQL above, as functions of this connection."""
    connection.create_function(BASE64URL, 1, _base64url, deterministic=True)
