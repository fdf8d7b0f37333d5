"""Planned reads straight through the driver (asyncpg on PostgreSQL, aiosqlite on SQLite):
SQLAlchemy builds and compiles each statement once, and each request runs it on a pooled
connection with no ORM session, no SQLAlchemy connection or result object around it (about a
quarter of a small read's CPU on PostgreSQL; on SQLite, one hop to aiosqlite's thread per
statement where SQLAlchemy's adapted cursor takes several).

    async with driver_reads(engine) as reads:        # None on another driver: use a session there
        rows = await reads.rows(statement, {"ids": [1, 2]})   # named tuples, values as SQLAlchemy's

On PostgreSQL the connection comes from the engine's own pool and goes back to it (or is kept for
the next read: `Parked`); on SQLite every read of the process shares one connection (`Shared`). A
connection that fails is invalidated, as SQLAlchemy does with its own. asyncpg runs each statement
in autocommit (no BEGIN, no ROLLBACK), prepared once per connection by its statement cache;
aiosqlite reads outside any transaction of SQLAlchemy's. Values are converted as SQLAlchemy would
(its result and bind processors: enums, dates, type decorators). SQLAlchemy's cursor events do not
see these statements: `every_statement(engine)` sees both, for counting them, and
`every_execution(engine)` both with their parameters, for explaining them; traced, each gets its
span as SQLAlchemy's do (`adapters.sql_spans`).

A read may carry one more value with its first statements, instead of a statement of its own
(`DriverReads.carry`): how a request learns its caller's tenant's version in the round trip of
its read (`api.read.lane`).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, namedtuple
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import event
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import Select
from sqlalchemy.util import greenlet_spawn

from adapters.sql_spans import traced_statement, tracer_for
from domain.database import caches_statements, is_unavailable, release_from_this_task

MAX_STATEMENTS = 1024
Processor = Callable[[Any], Any]


@dataclass(frozen=True, eq=False)
class Compiled:
    """One statement as PostgreSQL text, with how to bind its parameters and build its rows."""

    sql: str
    compiled: Any  # SQLAlchemy's compiled form: its parameter defaults
    order: tuple[str, ...]  # parameter names, as $1, $2, ...
    binds: tuple[Processor | None, ...]
    make: Callable[..., Any]  # a row (a named tuple) from its values
    results: tuple[tuple[int, Processor], ...]  # (column, processor) where SQLAlchemy converts
    constants: Mapping[str, Any]  # the values of lists written into the statement, expanded
    # Per parameter ($1, $2, ...): the key a caller gives it by, its name, and its bind processor;
    # and the statement's own values (literals, expanded lists), for those not given.
    slots: tuple[tuple[str, str, Processor | None], ...]
    written: Mapping[str, Any]

    @classmethod
    def of(cls, statement: Select[Any], dialect: Dialect) -> Compiled:
        compiled = statement.compile(dialect=dialect)
        sql, order = compiled.string, tuple(compiled.positiontup or ())
        processors: dict[str, Any] = dict(compiled._bind_processors)
        constants: dict[str, Any] = {}
        expanding = [name for name in order if compiled.binds[name].expanding]
        if expanding:
            # `column IN (...)` of a list written into the statement (a grant's locations): its
            # values are the statement's own, so it is expanded once, here.
            written = compiled.construct_params(_check=False)
            if any(written[name] is None for name in expanding):
                raise ValueError(f"a list given at execution: {', '.join(expanding)}")
            expanded = compiled._process_parameters_for_postcompile(dict(written), _populate_self=False)
            sql, order = expanded.statement, tuple(expanded.positiontup or ())
            constants = {name: value for name, value in expanded.parameters.items() if name not in written}
            processors.update(expanded.processors)
        binds = tuple(processors.get(name) for name in order)
        columns = list(statement.selected_columns)
        fields = [str(column.key) for column in columns]
        results = []
        for index, column in enumerate(columns):
            process = column.type._cached_result_processor(dialect, None)
            if process is not None:
                results.append((index, process))
        row = namedtuple("Row", fields, rename=True)  # type: ignore[misc]
        keys = {name: bind.key for bind, name in compiled.bind_names.items()}
        slots = tuple((keys.get(name, name), name, bind) for name, bind in zip(order, binds, strict=True))
        written = {**compiled.construct_params(_check=False), **constants}
        if any(bind.callable is not None for bind in compiled.bind_names):
            slots = ()  # a value computed at each execution: SQLAlchemy's construct_params asks for it
        return cls(sql, compiled, order, binds, row._make, tuple(results), constants, slots, written)

    def arguments(self, values: Mapping[str, Any]) -> list[Any]:
        """The parameters in order, as SQLAlchemy's `construct_params` and bind processors give them."""
        if self.slots or not self.order:
            written = self.written
            arguments = []
            for key, name, bind in self.slots:
                value = values[key] if key in values else values[name] if name in values else written[name]
                arguments.append(value if bind is None else bind(value))
            return arguments
        params = self.compiled.construct_params(values, _check=False)
        if self.constants:
            params = {**params, **self.constants}
        return [
            value if bind is None else bind(value)
            for value, bind in zip((params[name] for name in self.order), self.binds, strict=True)
        ]

    def rows(self, records: Sequence[Any]) -> list[Any]:
        make, results = self.make, self.results
        if not results:
            return [make(record) for record in records]
        made = []
        for record in records:
            values = list(record)
            for index, process in results:
                values[index] = process(values[index])
            made.append(make(values))
        return made


class Statements:
    """Compiled statements by statement (the planned read builds each once, `pages.BUILT`)."""

    def __init__(self, dialect: Dialect, capacity: int = MAX_STATEMENTS) -> None:
        self._dialect = dialect
        self._found: OrderedDict[int, tuple[Select[Any], Compiled]] = OrderedDict()
        self._capacity = capacity
        self._carried: dict[int, tuple[Compiled, Carried]] = {}

    def carrying(self, scalar: Select[Any]) -> Carried:
        """How built statements carry `scalar` (`Carried`), made once per scalar statement."""
        compiled = self.get(scalar)
        found = self._carried.get(id(compiled))
        if found is None or found[0] is not compiled:
            found = self._carried[id(compiled)] = (compiled, Carried(compiled))
        return found[1]

    def get(self, statement: Select[Any]) -> Compiled:
        found = self._found.get(id(statement))
        if found is not None and found[0] is statement:
            self._found.move_to_end(id(statement))
            return found[1]
        compiled = Compiled.of(statement, self._dialect)
        self._found[id(statement)] = (statement, compiled)  # the statement kept: its id stays its own
        if len(self._found) > self._capacity:
            self._found.popitem(last=False)
        return compiled


class Carried:
    """A scalar statement (one parameter) read as one more column of the rows of a built statement,
    `SELECT (<scalar>) AS carried, <its columns> FROM ...`: the same snapshot, no round trip of its
    own (on PostgreSQL an InitPlan, run once). Only for a statement whose text begins `SELECT ` and
    is neither DISTINCT nor a compound (the column must go into its own list)."""

    def __init__(self, scalar: Compiled, capacity: int = MAX_STATEMENTS) -> None:
        self._scalar = scalar
        self._found: OrderedDict[int, tuple[Compiled, str | None]] = OrderedDict()
        self._capacity = capacity

    def sql(self, compiled: Compiled, dialect: Dialect) -> str | None:
        """`compiled`'s SQL carrying the scalar, its parameter last ($n+1) or first (?); None
        when it cannot carry it."""
        found = self._found.get(id(compiled))
        if found is not None and found[0] is compiled:
            return found[1]
        text = compiled.sql
        can = text.startswith("SELECT ") and not text.startswith("SELECT DISTINCT")
        statement = compiled.compiled.statement
        can = can and isinstance(statement, Select) and not statement._distinct
        scalar = self._scalar.sql
        if dialect.paramstyle == "numeric_dollar":
            scalar = scalar.replace("$1", f"${len(compiled.order) + 1}")
        wrapped = f"SELECT ({scalar}) AS carried, {text[len('SELECT ') :]}" if can else None
        self._found[id(compiled)] = (compiled, wrapped)
        if len(self._found) > self._capacity:
            self._found.popitem(last=False)
        return wrapped


class Parked:
    """Connections checked out of an engine's pool for planned reads and kept, between requests, by
    the reads instead of going back (at most `capacity`, the last used first).

    A pool's checkout and checkin go through SQLAlchemy's greenlet, with its events and its reset
    (measured in process, 485 to 400 us of CPU per `node` request without them); a parked
    connection is taken from a list. A connection whose read was cancelled or lost the database is
    invalidated, as before, and never parked; one whose statement merely raised (bad input) stays
    usable and may be. When the engine is disposed, the parked connections are closed
    (`engine_disposed`)."""

    def __init__(self, engine: AsyncEngine, capacity: int) -> None:
        self.capacity = capacity
        self.idle: list[Any] = []
        event.listen(engine.sync_engine, "engine_disposed", self._disposed)

    def _disposed(self, engine: Engine) -> None:
        # Called inside SQLAlchemy's greenlet: the adapted connection's close can wait there.
        idle, self.idle = self.idle, []
        for pooled in idle:
            pooled.invalidate()


class Shared:
    """The one connection of an engine's pool that every SQLite read of the process uses, in turn:
    aiosqlite runs the statements sent to it one after another on its thread.

    SQLite runs one process's statements one at a time however many connections it has (its
    allocator takes a process-wide lock: here two threads, each on a connection of its own, ran
    1,597 dashboard statements a second between them, one thread alone 1,810), so more connections
    only add threads that wait, and a checkout and checkin each. Measured in process, 16 requests at
    a time on the benchmark's data: per dashboard 0.78 ms (1.25 ms of CPU) with connections from
    the pool, 0.54 ms (0.65 of CPU) with this one; per `node` 0.21 and 0.13 ms.

    A statement here is not interrupted at its request's deadline, as those on a request's own
    connection are (`domain.database.interrupt_statements`): that would stop whichever statement
    runs, another request's. The planned read's statements are bounded before they run (the cost
    limit: pages of at most a hundred), and a cancelled request's statement runs to its end before
    the next one. One that finds the connection gone lets it go; the next read opens another."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.pooled: Any = None
        self._opening = asyncio.Lock()
        event.listen(engine.sync_engine, "engine_disposed", self._disposed)

    async def connection(self, engine: AsyncEngine) -> Any:
        if self.pooled is None:
            async with self._opening:
                if self.pooled is None:
                    pooled = await engine.raw_connection()
                    release_from_this_task(pooled.driver_connection)  # every task's, not the opener's
                    self.pooled = pooled
        return self.pooled

    async def let_go(self, pooled: Any) -> None:
        if self.pooled is pooled:
            self.pooled = None
        await greenlet_spawn(pooled.invalidate)

    def _disposed(self, engine: Engine) -> None:
        pooled, self.pooled = self.pooled, None
        if pooled is not None:
            pooled.invalidate()


class DriverReads:
    """Rows of built statements on one connection, taken at the first statement and kept for the
    rest (`driver_reads`): the connection `Shared` on SQLite, else one of the pool's (`Parked`)."""

    def __init__(self, engine: AsyncEngine, statements: Statements, keeper: Parked | Shared) -> None:
        self._engine = engine
        self._statements = statements
        self._keeper = keeper
        self._pooled: Any = None
        self._failed = False
        self._sqlite = isinstance(keeper, Shared)
        self._carry: tuple[Carried, Any] | None = None
        self.carried: tuple[Any] | None = None  # the carried scalar's value, once a statement brought a row
        self._traced = tracer_for(engine)

    def carry(self, scalar: Select[Any], value: Any) -> None:
        """Read `scalar` (one parameter, given `value`) with the next statements, until one brings
        a row: then `carried` holds its value, in a one-tuple. A statement that cannot carry it
        runs as it is."""
        self._carry = (self._statements.carrying(scalar), value)

    async def rows(self, statement: Select[Any], values: Mapping[str, Any]) -> list[Any]:
        compiled = self._statements.get(statement)
        if self._pooled is None:
            self._pooled = await self._connection()
        arguments = compiled.arguments(values)
        if self._carry is not None:
            carried, value = self._carry
            sql = carried.sql(compiled, self._engine.dialect)
            if sql is not None:
                return await self._carrying(compiled, sql, arguments, value)
        return compiled.rows(await self._fetch(compiled.sql, arguments))

    async def _carrying(self, compiled: Compiled, sql: str, arguments: list[Any], value: Any) -> list[Any]:
        arguments = [value, *arguments] if self._sqlite else [*arguments, value]
        records = await self._fetch(sql, arguments)
        if records:
            self._carry = None
            self.carried = (records[0][0],)
        return compiled.rows([record[1:] for record in records])

    async def _fetch(self, sql: str, arguments: list[Any]) -> Sequence[Any]:
        for recorder in _RECORDERS.get(self._engine.sync_engine) or ():
            recorder(sql, arguments)
        if self._traced is None:
            return await self._sent(sql, arguments)
        with traced_statement(self._traced, sql) as sent:  # its span, its traceparent comment
            return await self._sent(sent, arguments, once=sent is not sql)

    async def _sent(self, sql: str, arguments: list[Any], *, once: bool = False) -> Sequence[Any]:
        """The statement's records. A text sent `once` (a sampled statement's traceparent comment) is
        prepared outside asyncpg's statement cache, where it would push out a statement that is
        sent again and again (and be prepared again, one more round trip, when that one comes)."""
        driver = self._pooled.driver_connection
        try:
            if self._sqlite:
                records: Sequence[Any] = await driver.execute_fetchall(sql, arguments)
            elif once and caches_statements(self._engine):
                records = await (await driver.prepare(sql)).fetch(*arguments)
            else:
                records = await driver.fetch(sql, *arguments)
        except BaseException as error:
            # Gone, or cancelled mid-statement (asyncpg's connection may be left mid-protocol; a
            # cancelled aiosqlite statement just runs to its end first): never handed out again.
            cancelled = not isinstance(error, Exception) and not self._sqlite
            self._failed = self._failed or is_unavailable(error) or cancelled or _closed(driver)
            raise
        return records

    async def _connection(self) -> Any:
        """A kept connection that is still open (one the database closed, say by restarting, is
        let go), else one of the pool's."""
        if isinstance(self._keeper, Shared):
            return await self._keeper.connection(self._engine)
        idle = self._keeper.idle
        while idle:
            pooled = idle.pop()
            if not _closed(pooled.driver_connection):
                return pooled
            await greenlet_spawn(pooled.invalidate)
        return await self._engine.raw_connection()

    async def release(self) -> None:
        pooled, self._pooled = self._pooled, None
        if pooled is None:
            return
        keeper = self._keeper
        if isinstance(keeper, Shared):
            if self._failed:
                await keeper.let_go(pooled)
            return
        if self._failed:
            await greenlet_spawn(pooled.invalidate)
        elif len(keeper.idle) < keeper.capacity and pooled.is_valid:
            keeper.idle.append(pooled)
            return
        await greenlet_spawn(pooled.close)


def _closed(driver: Any) -> bool:
    """Whether the driver's connection is closed (asyncpg tells; aiosqlite's are closed only by us)."""
    is_closed = getattr(driver, "is_closed", None)
    return bool(is_closed()) if callable(is_closed) else False


_STATEMENTS: WeakKeyDictionary[Engine, Statements] = WeakKeyDictionary()
_KEPT: WeakKeyDictionary[Engine, Parked | Shared] = WeakKeyDictionary()


def _capacity(engine: AsyncEngine) -> int:
    """How many connections the reads may keep: a quarter of the pool, so that sessions (writes,
    sign-in, the general executor) always find most of it."""
    size = getattr(engine.sync_engine.pool, "size", None)
    return max(1, size() // 4) if callable(size) else 1


Recorder = Callable[[str, Sequence[Any]], None]

# Told the SQL and arguments of each statement run here (`every_statement`, `every_execution`): what
# SQLAlchemy's cursor events are to its own statements.
_RECORDERS: WeakKeyDictionary[Engine, list[Recorder]] = WeakKeyDictionary()


@contextmanager
def _recording(engine: AsyncEngine, record: Recorder) -> Iterator[None]:
    """`record(sql, parameters)` of every statement `engine` runs inside the block, in the order
    they ran: SQLAlchemy's (its `before_cursor_execute` events; an executemany once, with its first
    set of parameters) and those run through `driver_reads(engine)`, which the events do not see."""

    def by_sqlalchemy(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        record(statement, parameters[0] if executemany and parameters else parameters)

    recorders = _RECORDERS.setdefault(engine.sync_engine, [])
    recorders.append(record)
    event.listen(engine.sync_engine, "before_cursor_execute", by_sqlalchemy)
    try:
        yield
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", by_sqlalchemy)
        recorders.remove(record)


def on_every_statement(engine: AsyncEngine, record: Recorder) -> AbstractContextManager[None]:
    """`record(sql, parameters)` of every statement `engine` runs inside the block (`_recording`),
    for as long as the block lasts (the app's metrics: statements per request)."""
    return _recording(engine, record)


@contextmanager
def every_statement(engine: AsyncEngine, keep: Callable[[str], str] = str) -> Iterator[list[str]]:
    """`keep` of the SQL of every statement `engine` runs inside the block (`_recording`). For
    counting statements in tests and benchmarks."""
    seen: list[str] = []
    with _recording(engine, lambda sql, parameters: seen.append(keep(sql))):
        yield seen


@contextmanager
def every_execution(engine: AsyncEngine) -> Iterator[list[tuple[str, Sequence[Any]]]]:
    """The SQL and parameters of every statement `engine` runs inside the block (`_recording`). For
    explaining their plans in tests."""
    seen: list[tuple[str, Sequence[Any]]] = []
    with _recording(engine, lambda sql, parameters: seen.append((sql, parameters))):
        yield seen


@asynccontextmanager
async def driver_reads(engine: AsyncEngine) -> AsyncIterator[DriverReads | None]:
    """A `DriverReads` on `engine`'s pool for the block; None unless the driver is asyncpg or
    aiosqlite."""
    if engine.dialect.driver not in ("asyncpg", "aiosqlite"):
        yield None
        return
    statements = _STATEMENTS.get(engine.sync_engine)
    if statements is None:
        statements = _STATEMENTS[engine.sync_engine] = Statements(engine.dialect)
    keeper = _KEPT.get(engine.sync_engine)
    if keeper is None:
        sqlite = engine.dialect.driver == "aiosqlite"
        keeper = _KEPT[engine.sync_engine] = Shared(engine) if sqlite else Parked(engine, _capacity(engine))
    reads = DriverReads(engine, statements, keeper)
    try:
        yield reads
    finally:
        await reads.release()
