"""One run of a planned read: objects in flight, level by level, as plain rows and dicts.

Each field of a selection is resolved for every object of its level at once by a handler (one
batch of SQL for a relation, a loop over rows for a scalar), so the work grows with the size of
the document, not with the number of rows. Errors are located like graphql-core locates them; an
error on a non-null field hands the request back to graphql-core (`Run.fail`).

    run = Run(plan, variables, context, lambda: session, model)
    data = await run.execute()      # run.errors holds the located errors

Where every field of a selection can be read off the object's own row (no SQL, no check that
can fail), the selection is built row by row by one composed function instead (`Run.builder`):
the objects of such a level are never materialized, only their dicts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar, cast

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLNonNull,
    GraphQLObjectType,
    get_named_type,
    located_error,
    visit,
)
from graphql.execution.values import VariableValues, get_argument_values
from graphql.language import Visitor
from sqlalchemy.ext.asyncio import AsyncSession

from api.graphql.context import Context
from api.read.builders import Build, constant, dict_builder
from api.read.collect import TYPENAME, Field, Plan, Selection
from domain.queries.pages import RowReader, Source

Path = tuple[str | int, ...]
Handler = Callable[["Run", Field, list["Obj"]], Awaitable[None]]
# A field's value read off its object's row alone; a factory makes it for a field of a plan (or
# says None: not for these arguments or this selection). What it makes holds nothing of the run.
Local = Callable[[Any], Any]
LocalFactory = Callable[["Run", Field], Local | None]


@dataclass(frozen=True)
class ReadModel:
    """What the planned read knows: a handler per (type, field) it answers, and for the fields that
    are read off the row alone, how to read them one row at a time."""

    handlers: Mapping[tuple[str, str], Handler]
    locals: Mapping[tuple[str, str], LocalFactory]


class Unplannable(Exception):
    """The run met something the read model does not answer: the request goes to graphql-core.

    `lasting`: true of the document whatever its variables (a field without a handler), so it is
    not tried again; false when it depends on them (e.g. the kind of object an id names).
    """

    def __init__(self, what: str, *, lasting: bool) -> None:
        super().__init__(what)
        self.lasting = lasting


@dataclass(eq=False, slots=True)
class Obj:
    """An object of the response in flight: its type, its source row, its output, and where it sits
    (its parent, the parent's response key, its index in a list): a path is only built for an error."""

    type: GraphQLObjectType
    row: Any
    out: dict[str, Any]
    parent: Obj | None = None
    key: str | None = None
    index: int | None = None

    @property
    def path(self) -> Path:
        if self.parent is None or self.key is None:
            return ()
        here = (self.key,) if self.index is None else (self.key, self.index)
        return (*self.parent.path, *here)


@dataclass(eq=False)
class Run:
    plan: Plan
    variables: VariableValues
    context: Context
    # The session, made at its first use (on PostgreSQL a planned read may need none).
    sessions: Callable[[], AsyncSession]
    model: ReadModel
    # Where the read model's row statements run: the driver (`adapters.driver_reads`), else the session.
    rows: RowReader | None = None
    # The data is written out by orjson (the lane), so it may hold JSON the database built
    # (`orjson.Fragment`); graphql-core's path writes it with the json module, which may not.
    writes_json: bool = False
    errors: list[GraphQLError] = field(default_factory=list)
    _memos: dict[Hashable, Any] = field(default_factory=dict)

    @property
    def session(self) -> AsyncSession:
        return self.sessions()

    @property
    def source(self) -> Source:
        return self.session if self.rows is None else self.rows

    async def execute(self) -> dict[str, Any] | None:
        query = self.plan.schema.query_type
        assert query is not None
        root = Obj(query, None, {})
        running = _RUNNING.set(self)
        try:
            await self.objects(self.plan.root, [root])
        finally:
            _RUNNING.reset(running)
        return root.out

    def memo(self, key: Hashable, make: Callable[[], T]) -> T:
        """What this run keeps under `key` (made at the first ask): how a getter of a builder kept
        with the plan holds something of one run (the caller's coverage, the programs it built)."""
        found = self._memos.get(key, _MISSING)
        if found is _MISSING:
            found = self._memos[key] = make()
        return cast(T, found)

    async def objects(self, selection: Selection | None, objects: list[Obj]) -> None:
        """Resolve `selection` for every object, field by field (each field once for all)."""
        if selection is None or not objects:
            return
        by_type: dict[str, list[Obj]] = {}
        for obj in objects:
            by_type.setdefault(obj.type.name, []).append(obj)
        handlers = self.model.handlers
        for group in by_type.values():
            runtime = group[0].type
            build = self.builder(runtime, selection)
            if build is not None:
                try:
                    for obj in group:
                        obj.out.update(build(obj.row))
                except Exception as error:  # graphql-core locates it (a bug, if it ever happens)
                    raise Unplannable(f"building {runtime.name}: {error!r}", lasting=False) from error
                continue
            for asked in selection.fields_for(runtime, self.variables):
                if asked.name == TYPENAME:
                    for obj in group:
                        obj.out[asked.key] = runtime.name
                    continue
                handler = handlers.get((runtime.name, asked.name))
                if handler is None or asked.definition is None:
                    raise Unplannable(f"{runtime.name}.{asked.name}", lasting=True)
                try:
                    await handler(self, asked, group)
                except Unplannable:
                    raise
                except Exception as error:  # as a resolver's: an error at each object's field, masked
                    for obj in group:
                        self.fail(obj, asked, error)

    def builder(self, runtime: GraphQLObjectType, selection: Selection | None) -> Build | None:
        """One function from a row to this selection's dict, when every field is read off the row
        alone; else None. Composed once per plan, type, selection and @skip/@include values: the
        getters hold nothing of a run (what depends on the caller they read through `current_run`)."""
        if selection is None:
            return None
        kept = self.plan.builders
        key = (runtime.name, id(selection), self.plan.directive_key(self.variables))
        if key in kept:
            return kept[key]
        built = self._compose(runtime, selection)
        if len(kept) < MAX_BUILDERS_PER_PLAN:
            kept[key] = built
        return built

    def _compose(self, runtime: GraphQLObjectType, selection: Selection) -> Build | None:
        getters: list[tuple[str, Local]] = []
        for asked in selection.fields_for(runtime, self.variables):
            if asked.name == TYPENAME:
                getters.append((asked.key, constant(runtime.name)))
                continue
            factory = self.model.locals.get((runtime.name, asked.name))
            if factory is None or asked.definition is None:
                return None
            get = factory(self, asked)
            if get is None:
                return None
            getters.append((asked.key, get))
        return dict_builder(len(getters))(*(item for pair in getters for item in pair))

    def arguments(self, asked: Field) -> Mapping[str, Any]:
        """The field's coerced arguments (defaults applied; absent optional ones left out). Those
        written without variables are the same in every run: coerced once, kept with the plan."""
        assert asked.definition is not None
        known = self.plan.constant_arguments
        kept = known.get(id(asked), _UNKNOWN)
        if kept is not None and kept is not _UNKNOWN:
            return kept
        found = get_argument_values(asked.definition, asked.nodes[0], self.variables)
        if kept is _UNKNOWN:
            known[id(asked)] = None if _reads_variables(asked.nodes[0]) else MappingProxyType(found)
        return found

    def child(
        self, type_: GraphQLObjectType, row: Any, parent: Obj, asked: Field, index: int | None = None
    ) -> Obj:
        return Obj(type_, row, {}, parent, asked.key, index)

    def fail(self, obj: Obj, asked: Field, error: Exception) -> None:
        """The field raised `error`: null here, located as graphql-core locates it.

        On a non-null field the null would spread to the parent, and which other errors graphql-core
        then reports depends on how its concurrent resolvers were scheduled when it cancelled them:
        such a request (a client's bad arguments, in this schema) is left to graphql-core.
        """
        assert asked.definition is not None
        if isinstance(asked.definition.type, GraphQLNonNull):
            raise Unplannable(f"{asked.name} failed on a non-null field", lasting=False)
        self.errors.append(located_error(error, list(asked.nodes), [*obj.path, asked.key]))
        obj.out[asked.key] = None


_UNKNOWN: Mapping[str, Any] = MappingProxyType({})


T = TypeVar("T")
_MISSING: Any = object()
# The run being executed in this task (`current_run`). A builder is kept with its plan and shared by
# its runs, so a getter that depends on who asks (the status each caller is shown) reads the run it
# is called for through this, rather than each run composing builders of its own.
_RUNNING: ContextVar[Run] = ContextVar("planned_run")


def current_run() -> Run:
    """The run executing in this task (only inside `Run.execute`)."""
    return _RUNNING.get()


MAX_BUILDERS_PER_PLAN = 256  # @skip/@include values are the client's: at most this many kept


def _reads_variables(node: FieldNode) -> bool:
    found = False

    class Finder(Visitor):
        def enter_variable(self, *args: Any) -> None:
            nonlocal found
            found = True

    for argument in node.arguments or ():
        visit(argument, Finder())
    return found


def returned_type(asked: Field) -> GraphQLObjectType:
    """The object type a field returns (lists and non-null unwrapped)."""
    assert asked.definition is not None
    named = get_named_type(asked.definition.type)
    assert isinstance(named, GraphQLObjectType)
    return named
