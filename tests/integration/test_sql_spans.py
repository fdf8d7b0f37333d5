"""A span per SQL statement (adapters/sql_spans.py), on SQLite, PostgreSQL and behind PgBouncer:
SQLAlchemy's statements and the planned reads' sent to the driver alike, children of the span
they run in, each statement sent with its span's traceparent comment; nothing outside a sampled
span. On SQLite, what the database ran is read back from sqlite3's trace callback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import Tracer
from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_only

from adapters.driver_reads import driver_reads
from adapters.sql_spans import trace_statements
from domain.database import caches_statements, is_sqlite
from domain.model import Program
from tests.support.pgbouncer import engine_for

PROGRAM_CODES = select(Program.__table__.c.code).where(Program.__table__.c.id > 0)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[tuple[AsyncEngine, list[str]]]:
    """A traced engine on `database_url`, and (on SQLite) every statement the database ran."""
    made = engine_for(database_url)
    ran: list[str] = []
    if is_sqlite(database_url):

        def trace_callback(dbapi_connection: Any, record: Any) -> None:
            await_only(dbapi_connection.driver_connection.set_trace_callback(ran.append))

        event.listen(made.sync_engine, "connect", trace_callback)
    try:
        yield made, ran
    finally:
        await made.dispose()


def statements(spans: tuple[ReadableSpan, ...]) -> list[ReadableSpan]:
    return [span for span in spans if "db.query.text" in (span.attributes or {})]


async def test_each_statement_is_a_child_span_and_carries_its_traceparent(
    engine: tuple[AsyncEngine, list[str]], exported: tuple[Tracer, InMemorySpanExporter]
) -> None:
    (made, ran), (tracer, exporter) = engine, exported
    trace_statements(made, tracer)
    with tracer.start_as_current_span("request") as request:
        async with made.connect() as connection:
            await connection.execute(text("SELECT 1"))
        async with driver_reads(made) as reads:
            assert reads is not None
            await reads.rows(PROGRAM_CODES, {})
    spans = statements(exporter.get_finished_spans())

    assert [span.name for span in spans] == ["SELECT", "SELECT"]
    assert all(
        span.parent is not None and span.parent.span_id == request.get_span_context().span_id
        for span in spans
    )
    assert spans[1].attributes is not None
    assert str(spans[1].attributes["db.query.text"]).startswith("SELECT programs.code")
    if ran:  # SQLite: the statements as the database ran them
        for span in spans:
            context = span.get_span_context()
            assert context is not None
            ids = f"{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"
            comment = f"/*traceparent='00-{ids}'*/"
            assert any(statement.endswith(comment) for statement in ran), (comment, ran)


async def test_statements_outside_a_sampled_span_are_sent_as_they_are(
    engine: tuple[AsyncEngine, list[str]], exported: tuple[Tracer, InMemorySpanExporter]
) -> None:
    (made, ran), (tracer, exporter) = engine, exported
    trace_statements(made, tracer)
    unsampled = TracerProvider(sampler=ALWAYS_OFF).get_tracer("test")
    async with made.connect() as connection:
        await connection.execute(text("SELECT 1"))  # in no span at all
    with unsampled.start_as_current_span("unsampled request"):
        async with driver_reads(made) as reads:
            assert reads is not None
            await reads.rows(PROGRAM_CODES, {})

    assert statements(exporter.get_finished_spans()) == []
    assert not [statement for statement in ran if "traceparent" in statement]


async def test_without_comments_a_sampled_statement_is_a_span_and_is_sent_as_it_is(
    engine: tuple[AsyncEngine, list[str]], exported: tuple[Tracer, InMemorySpanExporter]
) -> None:
    (made, ran), (tracer, exporter) = engine, exported
    trace_statements(made, tracer, comments=False)  # INCENTIVES_TRACE_SQL_COMMENTS=false
    with tracer.start_as_current_span("request"):
        async with made.connect() as connection:
            await connection.execute(text("SELECT 1"))
        async with driver_reads(made) as reads:
            assert reads is not None
            await reads.rows(PROGRAM_CODES, {})

    assert [span.name for span in statements(exporter.get_finished_spans())] == ["SELECT", "SELECT"]
    if is_sqlite(str(made.url)):
        assert ran, "SQLite's trace callback saw nothing"
    assert not [statement for statement in ran if "traceparent" in statement]


async def test_a_commented_statement_stays_out_of_the_drivers_statement_cache(
    engine: tuple[AsyncEngine, list[str]], exported: tuple[Tracer, InMemorySpanExporter]
) -> None:
    """Its text is new each time: cached, it would push out the statements sent again and again."""
    (made, _), (tracer, exporter) = engine, exported
    if not caches_statements(made):
        pytest.skip("only asyncpg's connections to PostgreSQL itself cache statements")
    trace_statements(made, tracer)
    async with driver_reads(made) as reads:
        assert reads is not None
        await reads.rows(PROGRAM_CODES, {})  # unsampled: cached, as ever
        with tracer.start_as_current_span("request"):
            found = await reads.rows(PROGRAM_CODES, {})
        # asyncpg's own cache, keyed by (query, record class, ...)
        cached = [key[0] for key in reads._pooled.driver_connection._stmt_cache._entries]
    assert found == []
    assert len(statements(exporter.get_finished_spans())) == 1
    assert cached, "the unsampled statement was not cached"
    assert not [text for text in cached if "traceparent" in text]
