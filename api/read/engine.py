"""One run of a planned read: objects in flight, level by level, as plain rows and dicts.

Each field of a selection is resolved for every object of its level at once by a handler (one
batch of SQL for a relation, a loop over rows for a scalar), so the work grows with the size of
the document, not with the number of rows. Errors are located like graphql-core locates them,
and a null where the schema says non-null makes its parent null, up to the nearest nullable
field, as the GraphQL specification says.

    run = Run(plan, variables, context, session, handlers)
    data = await run.execute()      # run.errors holds the located errors
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    located_error,
)
from graphql.execution.values import VariableValues, get_argument_values
from sqlalchemy.ext.asyncio import AsyncSession

from api.graphql.context import Context
from api.read.collect import TYPENAME, Field, Plan, Selection

Path = tuple[str | int, ...]
Handler = Callable[["Run", Field, list["Obj"]], Awaitable[None]]


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
    """An object of the response in flight: its type, its source row, its output, where it sits."""

    type: GraphQLObjectType
    row: Any
    out: dict[str, Any]
    path: Path
    parent: Obj | None = None
    via: Field | None = None  # the parent's field that holds this object
    in_list: bool = False  # an item of that field's list


@dataclass(eq=False)
class Run:
    plan: Plan
    variables: VariableValues
    context: Context
    session: AsyncSession
    handlers: Mapping[tuple[str, str], Handler]
    errors: list[GraphQLError] = field(default_factory=list)
    data_is_null: bool = False

    async def execute(self) -> dict[str, Any] | None:
        query = self.plan.schema.query_type
        assert query is not None
        root = Obj(query, None, {}, ())
        await self.objects(self.plan.root, [root])
        return None if self.data_is_null else root.out

    async def objects(self, selection: Selection | None, objects: list[Obj]) -> None:
        """Resolve `selection` for every object, field by field (each field once for all)."""
        if selection is None or not objects:
            return
        by_type: dict[str, list[Obj]] = {}
        for obj in objects:
            by_type.setdefault(obj.type.name, []).append(obj)
        for group in by_type.values():
            runtime = group[0].type
            for asked in selection.fields_for(runtime, self.variables):
                if asked.name == TYPENAME:
                    for obj in group:
                        obj.out[asked.key] = runtime.name
                    continue
                handler = self.handlers.get((runtime.name, asked.name)) or self.handlers.get(
                    ("*", asked.name)
                )
                if handler is None or asked.definition is None:
                    raise Unplannable(f"{runtime.name}.{asked.name}", lasting=True)
                try:
                    await handler(self, asked, group)
                except Unplannable:
                    raise
                except Exception as error:  # as a resolver's: an error at each object's field, masked
                    for obj in group:
                        self.fail(obj, asked, error)

    def arguments(self, asked: Field) -> dict[str, Any]:
        """The field's coerced arguments (defaults applied; absent optional ones left out)."""
        assert asked.definition is not None
        return get_argument_values(asked.definition, asked.nodes[0], self.variables)

    def child(
        self, type_: GraphQLObjectType, row: Any, parent: Obj, asked: Field, index: int | None = None
    ) -> Obj:
        path = (*parent.path, asked.key) if index is None else (*parent.path, asked.key, index)
        return Obj(type_, row, {}, path, parent, asked, index is not None)

    def fail(self, obj: Obj, asked: Field, error: Exception) -> None:
        """The field raised `error`: null here, located like graphql-core, bubbled up if non-null."""
        path = [*obj.path, asked.key]
        self.errors.append(located_error(error, list(asked.nodes), path))
        obj.out[asked.key] = None
        assert asked.definition is not None
        if isinstance(asked.definition.type, GraphQLNonNull):
            self._nullify(obj)

    def _nullify(self, obj: Obj) -> None:
        """A non-null field of `obj` is null: `obj` is null where it sits, and so on upwards."""
        parent, via = obj.parent, obj.via
        if parent is None or via is None:
            self.data_is_null = True
            return
        assert via.definition is not None
        field_type: GraphQLOutputType = via.definition.type
        if obj.in_list:
            items = _list_of(field_type)
            if not isinstance(items.of_type, GraphQLNonNull):
                index = obj.path[-1]
                value = parent.out.get(via.key)
                if isinstance(value, list) and isinstance(index, int):
                    value[index] = None
                return
        parent.out[via.key] = None
        if isinstance(field_type, GraphQLNonNull):
            self._nullify(parent)


def _list_of(field_type: GraphQLOutputType) -> GraphQLList[Any]:
    nullable = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
    assert isinstance(nullable, GraphQLList)
    return nullable
