"""The planned read's model, derived from the schema's declarations (`api.graphql.declared`): for
each (type, field), the handler that answers it for every object of a level at once, and for the
fields read off the row alone, the getter that `Run.builder` composes into one function per
selection. Nothing here knows a field: only how each kind of source is read, and how each kind of
GraphQL type is written out (leaves serialized as graphql-core serializes them).

    model = read_model(schema)          # once per schema
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from functools import cached_property
from operator import attrgetter
from types import MappingProxyType
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    get_named_type,
    is_abstract_type,
    is_leaf_type,
)
from strawberry.types.field import StrawberryField
from strawberry.utils.str_converters import to_camel_case

from api.graphql import declared as sources
from api.graphql.declared import TYPES, Asked, ConnectionRow, Declared, Paged
from api.graphql.errors import ForbiddenError
from api.graphql.pagination import BadUserInputError, page_args, written
from api.graphql.scalars import serialize_date, serialize_date_time
from api.read.collect import Field
from api.read.engine import (
    Handler,
    Local,
    LocalFactory,
    Obj,
    ReadModel,
    Run,
    current_run,
    returned_type,
)
from domain.queries.pages import PageArgs, Rows

Value = Callable[[Any], Any]
NAME: Value = attrgetter("_name_")
PAGING = frozenset({"first", "after", "last", "before"})


def read_model(schema: GraphQLSchema) -> ReadModel:
    """Every (type, field) of `schema` whose declaration the planned read can answer."""
    handlers: dict[tuple[str, str], Handler] = {}
    locals_: dict[tuple[str, str], LocalFactory] = {}
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        declared_type = TYPES.get(type_.name)
        rows = None if declared_type is None else declared_type.rows
        for name, definition in type_.fields.items():
            made = derive(definition, rows)
            if made is None:
                continue
            handlers[(type_.name, name)] = made.handler
            if made.local is not None:
                locals_[(type_.name, name)] = made.local
    return ReadModel(handlers, locals_)


@dataclass(frozen=True)
class Derived:
    handler: Handler
    local: LocalFactory | None = None


NO_ARGUMENTS: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class Site:
    """A field being derived: its declaration, its Strawberry and GraphQL definitions, its type's rows."""

    declared: Declared
    strawberry: StrawberryField
    graphql: GraphQLField
    rows: Rows | None

    @property
    def python_name(self) -> str:
        return str(self.strawberry.python_name)

    @cached_property
    def leaf(self) -> bool:
        return is_leaf(self.graphql)

    @cached_property
    def many(self) -> bool:
        return is_list(self.graphql)

    @cached_property
    def write(self) -> Value | None:
        """How a leaf value is written out (None: as it is)."""
        return serializer(self.graphql.type)

    @cached_property
    def abstract(self) -> bool:
        return is_abstract_type(get_named_type(self.graphql.type))

    @cached_property
    def argument_names(self) -> dict[str, str]:
        """The field's arguments' Python names by their GraphQL names (paging's left out)."""
        paging = isinstance(self.declared.source, Paged)
        return {
            argument.graphql_name or to_camel_case(argument.python_name): argument.python_name
            for argument in self.strawberry.arguments
            if not (paging and argument.python_name in PAGING)
        }


def derive(definition: GraphQLField, rows: Rows | None) -> Derived | None:
    field_ = (definition.extensions or {}).get("strawberry-definition")
    declared = field_.metadata.get("declared") if isinstance(field_, StrawberryField) else None
    if not isinstance(declared, Declared):
        return None
    assert isinstance(field_, StrawberryField)
    maker = DERIVERS.get(type(declared.source))
    return None if maker is None else maker(Site(declared, field_, definition, rows))


# --- reading values out -------------------------------------------------------------------------------


def serializer(type_: GraphQLOutputType) -> Value | None:
    """How a leaf value is written out (None: as it is), lists item by item."""
    nullable = not isinstance(type_, GraphQLNonNull)
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(inner, GraphQLList):
        each = serializer(inner.of_type)
        if each is None:
            return None
        return lambda values: None if values is None else [each(value) for value in values]
    write = _leaf(inner)
    if write is None or not nullable:
        return write
    if write is NAME:
        return lambda value: None if value is None else value._name_
    return lambda value: None if value is None else write(value)


def _leaf(type_: Any) -> Value | None:
    if isinstance(type_, GraphQLEnumType):
        return NAME  # the member's name: the enum value's name in the schema
    if isinstance(type_, GraphQLScalarType) and type_.name == "Date":
        return serialize_date
    if isinstance(type_, GraphQLScalarType) and type_.name == "DateTime":
        return serialize_date_time
    return None


def _then(get: Value, write: Value | None) -> Value:
    """`write(get(row))` in one function (it runs for every row): an enum's name read directly."""
    if write is None:
        return get
    if write is NAME:
        return lambda row: get(row)._name_
    return lambda row: write(get(row))


def is_leaf(definition: GraphQLField) -> bool:
    return is_leaf_type(get_named_type(definition.type))


def is_list(definition: GraphQLField) -> bool:
    type_ = definition.type
    return isinstance(type_.of_type if isinstance(type_, GraphQLNonNull) else type_, GraphQLList)


# --- checks -------------------------------------------------------------------------------------------


def allowed(run: Run, asked: Field, objs: list[Obj], declared: Declared) -> list[Obj]:
    """The objects whose row the field's guard allows; the others fail with FORBIDDEN here."""
    guard = declared.guard
    if guard is None:
        return objs
    principal = run.context.principal
    kept = []
    for obj in objs:
        if guard.allows(principal, obj.row):
            kept.append(obj)
        else:
            run.fail(obj, asked, ForbiddenError(guard.action))
    return kept


def asked_with(run: Run, asked: Field, site: Site, page: PageArgs | None = None) -> Asked:
    """The field's arguments by Python name (paging's apart), and what it shows."""
    names = site.argument_names
    if not names:
        return Asked(NO_ARGUMENTS, site.declared.shows, page)
    given = run.arguments(asked)
    return Asked(
        {names[name]: value for name, value in given.items() if name in names}, site.declared.shows, page
    )


def page_of(run: Run, asked: Field, descending: bool) -> PageArgs:
    """The field's checked `first`/`after`/`last`/`before` (BadUserInputError when refused)."""
    arguments = run.arguments(asked)
    return page_args(
        arguments.get("first"),
        arguments.get("after"),
        arguments.get("last"),
        arguments.get("before"),
        descending=descending,
        first_written=written(asked.nodes[0], "first", run.variables.coerced),
    )


def paging(run: Run, asked: Field, objs: list[Obj], descending: bool) -> PageArgs | None:
    """The field's page, or None after failing every object (BAD_USER_INPUT)."""
    try:
        return page_of(run, asked, descending)
    except BadUserInputError as error:
        for obj in objs:
            run.fail(obj, asked, error)
        return None


# --- nesting objects ---------------------------------------------------------------------------------


async def settle(run: Run, asked: Field, objs: list[Obj], values: list[Any], site: Site) -> None:
    """Each object's value at this field: an exception fails it; leaves are written out; rows of
    objects (or `Typed` ones, of an abstract type) become the next level, resolved together."""
    key = asked.key
    if site.leaf:
        write = site.write
        for obj, value in zip(objs, values, strict=True):
            if isinstance(value, Exception):
                run.fail(obj, asked, value)
            else:
                obj.out[key] = value if write is None else write(value)
        return
    children: list[Obj] = []
    type_of = _child_type(run, asked, site)
    key_of = asked.key
    for obj, value in zip(objs, values, strict=True):
        if isinstance(value, Exception):
            run.fail(obj, asked, value)
        elif value is None:
            obj.out[key] = None
        elif site.many:
            items: list[dict[str, Any] | None] = []
            for index, item in enumerate(value):
                if item is None:
                    items.append(None)
                    continue
                type_, row = type_of(item)
                child = Obj(type_, row, {}, obj, key_of, index)
                items.append(child.out)
                children.append(child)
            obj.out[key] = items
        else:
            type_, row = type_of(value)
            child = Obj(type_, row, {}, obj, key_of)
            obj.out[key] = child.out
            children.append(child)
    await run.objects(asked.selection, children)


def _child_type(run: Run, asked: Field, site: Site) -> Callable[[Any], tuple[GraphQLObjectType, Any]]:
    """The type and row of each value of the field: its type's, or (abstract) its own `Typed`'s."""
    if site.abstract:
        schema = run.plan.schema

        def typed(value: Any) -> tuple[GraphQLObjectType, Any]:  # a `Typed`
            found = schema.get_type(value.type_name)
            assert isinstance(found, GraphQLObjectType)
            return found, value.row

        return typed
    type_ = returned_type(asked)
    return lambda row: (type_, row)


# --- the sources --------------------------------------------------------------------------------------


def _column(site: Site) -> Derived:
    source = site.declared.source
    assert isinstance(source, sources.Column)
    name = source.name or site.python_name
    rows = site.rows
    get = rows.get(name) if rows is not None and name in rows.names else attrgetter(name)
    if not is_leaf(site.graphql):
        return _object_function(site, get)
    return _row_function(site, _then(get, serializer(site.graphql.type)))


def _computed(site: Site) -> Derived:
    source = site.declared.source
    assert isinstance(source, sources.Computed)
    if source.caller_free:
        get: Value = source.make(None)  # type: ignore[arg-type]
    else:
        get = _this_runs(site.declared, source.make)
    if is_leaf(site.graphql):
        return _row_function(site, _then(get, serializer(site.graphql.type)))
    return _object_function(site, get)


def _joined(site: Site) -> Derived:
    source = site.declared.source
    assert isinstance(source, sources.Joined)
    return _object_function(site, source.reader(site.rows))


def _this_runs(key: Hashable, make: Callable[[Any], Value]) -> Value:
    """The function `make` gives for the run executing now (made at its first row)."""

    def get(row: Any) -> Any:
        run = current_run()
        return run.memo(key, lambda: make(run.context))(row)

    return get


def _row_function(site: Site, get: Value) -> Derived:
    """A leaf that is a function of the row: a loop over the level; a getter for builders."""
    declared = site.declared

    async def handle(run: Run, asked: Field, objs: list[Obj]) -> None:
        key = asked.key
        for obj in allowed(run, asked, objs, declared):
            obj.out[key] = get(obj.row)

    if declared.guard is not None:
        return Derived(handle)  # a check that can fail: never in a builder
    return Derived(handle, lambda run, asked: get)


def _object_function(site: Site, read: Value) -> Derived:
    """An object (or a list of them) that is a function of the row, read with its selection."""
    declared = site.declared
    many = is_list(site.graphql)

    async def handle(run: Run, asked: Field, objs: list[Obj]) -> None:
        kept = allowed(run, asked, objs, declared)
        await settle(run, asked, kept, [read(obj.row) for obj in kept], site)

    if declared.guard is not None:
        return Derived(handle)

    def factory(run: Run, asked: Field) -> Local | None:
        named = get_named_type(site.graphql.type)
        if not isinstance(named, GraphQLObjectType):
            return None  # an abstract type: its objects' types differ row by row
        build = run.builder(named, asked.selection)
        if build is None:
            return None
        if many:
            return lambda row: [build(item) for item in read(row)]
        return lambda row: None if (value := read(row)) is None else build(value)

    return Derived(handle, factory)


def _batch(site: Site) -> Derived:
    declared = site.declared
    source = declared.source
    assert isinstance(source, sources.Batch)

    async def handle(run: Run, asked: Field, objs: list[Obj]) -> None:
        kept = allowed(run, asked, objs, declared)
        if not kept:
            return
        values = await source.fetch(run, [obj.row for obj in kept], asked_with(run, asked, site))
        await settle(run, asked, kept, list(values), site)

    return Derived(handle)


def _paged(site: Site) -> Derived:
    declared = site.declared
    source = declared.source
    assert isinstance(source, Paged)

    async def handle(run: Run, asked: Field, objs: list[Obj]) -> None:
        kept = allowed(run, asked, objs, declared)
        page = paging(run, asked, kept, source.descending)
        if page is None or not kept:
            return
        with_page = asked_with(run, asked, site, page)
        if source.json is not None and await source.json.answer(run, asked, kept, with_page):
            return
        pages = await source.pages(run, [obj.row for obj in kept], with_page)
        connection = returned_type(asked)
        made = []
        for obj, found in zip(kept, pages, strict=True):
            child = run.child(connection, ConnectionRow.of(found, obj.row, source, with_page), obj, asked)
            obj.out[asked.key] = child.out
            made.append(child)
        await run.objects(asked.selection, made)

    return Derived(handle)


DERIVERS: dict[type, Callable[[Site], Derived]] = {
    sources.Column: _column,
    sources.Computed: _computed,
    sources.Joined: _joined,
    sources.Batch: _batch,
    sources.Paged: _paged,
}
