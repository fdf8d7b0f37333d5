"""A CLIENT span per SQL statement, its `traceparent` written into the statement as a trailing
comment (sqlcommenter: `SELECT ... /*traceparent='00-<trace>-<span>-01'*/`), so that the database's
own views (pg_stat_activity, its statement log, auto_explain) name the span that sent it.

    trace_statements(engine, tracer)     # the composition root, when tracing is on
    tracer_for(engine)                   # the driver's own reads (adapters.driver_reads) ask

SQLAlchemy's statements are seen by its cursor events; the planned reads' statements, sent to the
driver past SQLAlchemy, by `traced_statement`. Only a statement run inside a sampled span gets a
span and a comment: an unsampled request's SQL, and SQL outside any span (start-up), run unchanged.

The comment (INCENTIVES_TRACE_SQL_COMMENTS, off unless asked for) makes each sampled statement's
text its own, so a statement cache keyed by the text (asyncpg's, SQLAlchemy's asyncpg dialect's,
sqlite3's) does not find it: the database parses and plans it again. Unsampled statements keep
their text and stay cached. docs/observability.md ("The trace id in the SQL") says what that costs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from weakref import WeakKeyDictionary

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Tracer
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

# Per traced engine: its tracer, its statements' attributes, and whether they carry the comment.
Traced = tuple[Tracer, Mapping[str, str | int], bool]
_TRACED: WeakKeyDictionary[Engine, Traced] = WeakKeyDictionary()
_SPAN = "incentives_span"  # where a statement's span waits, in SQLAlchemy's execution context


def trace_statements(engine: AsyncEngine, tracer: Tracer, *, comments: bool = True) -> None:
    """A span per statement `engine` runs, through SQLAlchemy or its driver, and (`comments`,
    INCENTIVES_TRACE_SQL_COMMENTS) its traceparent as a comment in the statement."""
    url = engine.url
    sqlite = engine.dialect.name == "sqlite"
    attributes: dict[str, str | int] = {"db.system.name": "sqlite" if sqlite else "postgresql"}
    if url.database:
        attributes["db.namespace"] = url.database
    if not sqlite and url.host:
        attributes["server.address"] = url.host
        attributes["server.port"] = url.port or 5432
    sync = engine.sync_engine
    traced = _TRACED[sync] = (tracer, attributes, comments)

    def before(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> tuple[str, Any]:
        if context is None:
            return statement, parameters
        span, sent = _started(traced, statement)
        if span is not None:
            setattr(context, _SPAN, span)
        return sent, parameters

    event.listen(sync, "before_cursor_execute", before, retval=True)
    event.listen(sync, "after_cursor_execute", _after)
    event.listen(sync, "handle_error", _failed)


def tracer_for(engine: AsyncEngine) -> Traced | None:
    """The tracer and attributes of `engine`'s statements, or None when they are not traced."""
    return _TRACED.get(engine.sync_engine)


@contextmanager
def traced_statement(traced: Traced, sql: str) -> Iterator[str]:
    """The statement to send: `sql` with its span's comment while the block runs in its span."""
    span, sent = _started(traced, sql)
    if span is None:
        yield sql
        return
    with trace.use_span(span, end_on_exit=True):
        yield sent


def _started(traced: Traced, sql: str) -> tuple[Span | None, str]:
    if not trace.get_current_span().get_span_context().trace_flags.sampled:
        return None, sql
    tracer, attributes, comments = traced
    span = tracer.start_span(
        _operation(sql), kind=SpanKind.CLIENT, attributes={**attributes, "db.query.text": sql}
    )
    context = span.get_span_context()
    if not comments or not context.trace_flags.sampled:
        return span, sql
    comment = f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"
    return span, f"{sql} /*traceparent='{comment}'*/"


def _operation(sql: str) -> str:
    """The span's name: the statement's first word (SELECT, INSERT, ...), as the conventions' operation."""
    word = sql.lstrip().split(None, 1)
    return word[0].upper() if word else "SQL"


def _after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
    span = getattr(context, _SPAN, None)
    if span is not None:
        setattr(context, _SPAN, None)
        span.end()


def _failed(exception_context: Any) -> None:
    context = exception_context.execution_context
    span = getattr(context, _SPAN, None)
    if span is not None:
        setattr(context, _SPAN, None)
        error = exception_context.original_exception
        span.record_exception(error)
        span.set_status(trace.Status(trace.StatusCode.ERROR, type(error).__name__))
        span.end()
