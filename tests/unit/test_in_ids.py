"""`InIds`: a list of ids as one parameter (the same SQL for any number of them), rendered as each
database's indexes serve it."""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, Table, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.sql import Select

from domain.queries.pages import InIds

THINGS = Table("things", MetaData(), Column("id", Integer, primary_key=True), Column("owner_id", Integer))


def _asyncpg() -> Dialect:
    """The dialect incentives compiles its PostgreSQL statements with."""
    return make_url("postgresql+asyncpg://").get_dialect()()


def _where(statement: Select[tuple[int]], dialect: Dialect) -> str:
    return " ".join(str(statement.compile(dialect=dialect)).split()).partition(" WHERE ")[2]


def test_in_ids_is_a_plain_in_on_sqlite_with_nothing_compared_to_one() -> None:
    statement = select(THINGS.c.id).where(InIds(THINGS.c.owner_id, "ids"), THINGS.c.id > 0)
    assert (
        _where(statement, sqlite.dialect())
        == "things.owner_id IN (SELECT value FROM json_each(?)) AND things.id > ?"
    )


def test_in_ids_alone_in_the_where_is_a_plain_in_on_sqlite() -> None:
    statement = select(THINGS.c.id).where(InIds(THINGS.c.owner_id, "ids"))
    assert _where(statement, sqlite.dialect()) == "things.owner_id IN (SELECT value FROM json_each(?))"


def test_in_ids_negated_is_not_in_on_sqlite() -> None:
    statement = select(THINGS.c.id).where(~InIds(THINGS.c.owner_id, "ids"))
    assert _where(statement, sqlite.dialect()) == "NOT things.owner_id IN (SELECT value FROM json_each(?))"


def test_in_ids_binds_the_ids_as_one_json_array_on_sqlite() -> None:
    statement = select(THINGS.c.id).where(InIds(THINGS.c.owner_id, "ids"))
    compiled = statement.compile(dialect=sqlite.dialect())
    process = compiled.binds["ids"].type.bind_processor(sqlite.dialect())
    assert process is not None
    assert process([3, 1, 2]) == "[3, 1, 2]"


def test_in_ids_is_any_of_one_array_on_postgresql() -> None:
    statement = select(THINGS.c.id).where(InIds(THINGS.c.owner_id, "ids"), THINGS.c.id > 0)
    where = _where(statement, _asyncpg())
    assert where == "things.owner_id = ANY ($1::BIGINT[]) AND things.id > $2::INTEGER"
