"""Strawberry's resolvers, made from each field's declaration (`api.graphql.declared`).

A column is read off the object's row; a computed field runs its function, made once per request;
a batch or a page goes through a DataLoader per field and arguments, so that the objects of one
level share one fetch, as the planned read shares it. The rows a field returns come back wrapped in
the field's type. A guard is checked before anything is read.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader
from strawberry.types.base import StrawberryList, StrawberryOptional, has_object_definition
from strawberry.types.field import StrawberryField
from strawberry.types.lazy_type import LazyType

from api.graphql.declared import (
    CLASSES,
    DECLARED,
    TYPES,
    Asked,
    Batch,
    Column,
    Computed,
    ConnectionRow,
    Declared,
    Fetch,
    Guard,
    Joined,
    Paged,
    Row,
    Typed,
    frozen,
)
from api.graphql.errors import ForbiddenError
from api.graphql.pagination import DEFAULT_PAGE_SIZE, After, Before, First, Last, paging

if TYPE_CHECKING:
    from api.graphql.context import Context

K = TypeVar("K")
V = TypeVar("V")
Resolver = Callable[..., Any]
Info = strawberry.Info[Any, Any]


def strawberry_field(declared: Declared) -> Any:
    """The StrawberryField of a declaration: its resolver, arguments, description and metadata."""
    resolver = _MAKERS[type(declared.source)](declared)
    resolver.__signature__ = _signature(declared)  # type: ignore[attr-defined]
    return strawberry.field(
        resolver=resolver, description=declared.full_description, metadata={DECLARED: declared}
    )


def _signature(declared: Declared) -> inspect.Signature:
    keyword = inspect.Parameter.KEYWORD_ONLY
    parameters = [
        inspect.Parameter("root", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        inspect.Parameter("info", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=strawberry.Info),
    ]

    def listed(leading: bool) -> None:
        for name, argument in declared.arguments.items():
            if argument.leads is leading:
                default = inspect.Parameter.empty if argument.default is ... else argument.default
                parameters.append(
                    inspect.Parameter(name, keyword, annotation=argument.annotation, default=default)
                )

    listed(True)
    if isinstance(declared.source, Paged):
        parameters += [
            inspect.Parameter("first", keyword, annotation=First, default=DEFAULT_PAGE_SIZE),
            inspect.Parameter("after", keyword, annotation=After, default=strawberry.UNSET),
            inspect.Parameter("last", keyword, annotation=Last, default=strawberry.UNSET),
            inspect.Parameter("before", keyword, annotation=Before, default=strawberry.UNSET),
        ]
    listed(False)
    return inspect.Signature(parameters)


def _row(root: Any) -> Row:
    return None if root is None else root.row  # the root query's fields have no row


def _allowed_row(root: Any, info: Info, guard: Guard | None) -> Row:
    """The object's row, once the field's guard allows it (else FORBIDDEN)."""
    row = _row(root)
    if guard is not None and not guard.allows(info.context.principal, row):
        raise ForbiddenError(guard.action)
    return row


def _column(declared: Declared) -> Resolver:
    source, guard = declared.source, declared.guard
    assert isinstance(source, Column)

    def resolve(root: Any, info: Info) -> Any:
        return wrapped(info, getattr(_allowed_row(root, info, guard), source.name or info.python_name))

    return resolve


def _computed(declared: Declared) -> Resolver:
    source, guard = declared.source, declared.guard
    assert isinstance(source, Computed)

    def resolve(root: Any, info: Info) -> Any:
        context: Context = info.context
        function = context.memo(declared, lambda: source.make(context))
        return wrapped(info, function(_allowed_row(root, info, guard)))

    return resolve


def _joined(declared: Declared) -> Resolver:
    source = declared.source
    assert isinstance(source, Joined)
    readers: dict[str, Callable[[Row], Row | None]] = {}

    def resolve(root: Any, info: Info) -> Any:
        within = info._raw_info.parent_type.name
        read = readers.get(within)
        if read is None:
            read = readers[within] = source.reader(TYPES[within].rows if within in TYPES else None)
        return wrapped(info, read(_row(root)))

    return resolve


def _batch(declared: Declared) -> Resolver:
    source, guard = declared.source, declared.guard
    assert isinstance(source, Batch)

    async def resolve(root: Any, info: Info, **arguments: Any) -> Any:
        row = _allowed_row(root, info, guard)
        asked = Asked(given(arguments), declared.shows)
        value = await batches(info.context).load(declared, source.fetch, asked, row)
        if isinstance(value, Exception):
            raise value
        return wrapped(info, value)

    return resolve


def _paged(declared: Declared) -> Resolver:
    source, guard = declared.source, declared.guard
    assert isinstance(source, Paged)

    async def resolve(
        root: Any,
        info: Info,
        first: Any = DEFAULT_PAGE_SIZE,
        after: Any = strawberry.UNSET,
        last: Any = strawberry.UNSET,
        before: Any = strawberry.UNSET,
        **arguments: Any,
    ) -> Any:
        row = _allowed_row(root, info, guard)
        page = paging(info, first, after, last, before, descending=source.descending)
        asked = Asked(given(arguments), declared.shows, page)
        found = await batches(info.context).load(declared, source.pages, asked, row)
        return wrapped(info, ConnectionRow.of(found, row, source, asked))

    return resolve


_MAKERS: dict[type, Callable[[Declared], Resolver]] = {
    Column: _column,
    Computed: _computed,
    Joined: _joined,
    Batch: _batch,
    Paged: _paged,
}


def given(arguments: dict[str, Any]) -> dict[str, Any]:
    """The arguments the client gave (Strawberry's UNSET ones left out)."""
    return {name: value for name, value in arguments.items() if value is not strawberry.UNSET}


# --- rows wrapped in their types ---------------------------------------------------------------------


def wrapped(info: Info, value: Any) -> Any:
    """The value as the field's type: rows wrapped in its object type, lists item by item."""
    field_: StrawberryField = info._field
    wrap = _WRAPPERS.get(field_)
    if wrap is None:
        wrap = _WRAPPERS[field_] = wrapper(field_.type)
    return wrap(value)


_WRAPPERS: dict[StrawberryField, Callable[[Any], Any]] = {}


def wrapper(type_: Any) -> Callable[[Any], Any]:
    """How a value of `type_` (a Strawberry type) is made from rows."""
    if isinstance(type_, LazyType):
        type_ = type_.resolve_type()
    if isinstance(type_, StrawberryOptional):
        inner = wrapper(type_.of_type)
        return lambda value: None if value is None else inner(value)
    if isinstance(type_, StrawberryList):
        each = wrapper(type_.of_type)
        return lambda values: [each(value) for value in values]
    if has_object_definition(type_):
        definition = type_.__strawberry_definition__
        if definition.is_interface:
            return lambda value: (
                CLASSES[value.type_name](row=value.row) if isinstance(value, Typed) else value
            )
        made = definition.concrete_of.origin if definition.concrete_of is not None else type_
        return lambda row: row if isinstance(row, made) else made(row=row)  # type: ignore[call-arg]
    return lambda value: value


# --- batches -----------------------------------------------------------------------------------------


class Loader(DataLoader[K, V]):
    """A DataLoader whose waiters cannot cancel the load they share.

    When an error nulls part of a result, graphql-core cancels that part's pending fields; a field
    waiting on a load would cancel the load itself, and with it every other field waiting for the
    same batch. Each waiter gets its own shield instead.
    """

    def load(self, key: K) -> Awaitable[V]:
        return asyncio.shield(super().load(key))


class StrawberryReading:
    """A `Reading` for one of Strawberry's batches: the request's context and a session of its own."""

    def __init__(self, context: Context, session: AsyncSession) -> None:
        self.context = context
        self.session = session

    @property
    def source(self) -> AsyncSession:
        return self.session


@asynccontextmanager
async def reading(context: Context) -> AsyncIterator[StrawberryReading]:
    """A `Reading` with a session of its own (concurrent resolvers never share one)."""
    async with context.services.sessions() as session:
        yield StrawberryReading(context, session)


class Batches:
    """A request's DataLoaders, one per field and what it was asked: the objects of a level asking
    the same share one fetch. Nothing is cached: each load is a row of its own level."""

    def __init__(self, context: Context) -> None:
        self._context = context
        self._loaders: dict[Hashable, Loader[Any, Any]] = {}

    def load(self, declared: Declared, fetch: Fetch, asked: Asked, row: Row) -> Any:
        key = (id(declared), frozen(asked.args), asked.page)
        loader = self._loaders.get(key)
        if loader is None:

            async def load(rows: list[Row]) -> list[Any]:
                async with reading(self._context) as within:
                    return list(await fetch(within, rows, asked))

            loader = self._loaders[key] = Loader(load, cache=False)
        return loader.load(row)


def batches(context: Context) -> Batches:
    return context.memo(Batches, lambda: Batches(context))
