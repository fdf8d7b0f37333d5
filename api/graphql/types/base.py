"""What every object type shares: the typed `Info`; the declared object types (`object_type`,
`node_type`), each naming the guard of its objects, from which its description, `node` and
subscriptions follow; the `Node` interface; connections (`Connection`, `Edge`, `PageInfo`),
declared like any other type (`api.graphql.fields`); and `to_one`, a field naming another row."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any, Generic, TypeAlias, TypeVar, dataclass_transform

import strawberry
from sqlalchemy import ColumnElement, FromClause, Text, literal
from sqlalchemy import cast as sql_cast
from strawberry.types.field import StrawberryField

# Imported for its side effect: it registers the domain's enums with strawberry.
import api.graphql.enums  # noqa: F401
from api.graphql.context import Context
from api.graphql.declared import (
    CLASSES,
    TYPES,
    Asked,
    ById,
    ConnectionRow,
    Fetch,
    Guard,
    Reading,
    Row,
    TypeDeclared,
    count_connections,
)
from api.graphql.fields import batch, computed, joined
from api.graphql.ids import to_global_id
from api.graphql.pagination import CURSOR_PREFIX, encode_cursor
from domain.access import Action, requirement
from domain.queries.json_sql import base64url
from domain.queries.pages import Rows, rows_by_ids, rows_by_parent

Info: TypeAlias = strawberry.Info[Context, None]

T = TypeVar("T")
C = TypeVar("C", bound=type)

NODE_ID = "The global ID: opaque, stable, unique across types."


def described(text: str, action: Action | None) -> str:
    """`text` and who may read or do it (saleor style: codegen users see the access rules)."""
    return f"{text} {requirement(action)}"


@dataclass_transform(
    order_default=True, kw_only_default=True, field_specifiers=(strawberry.field, StrawberryField)
)
def object_type(
    description: str,
    guard: Guard | None,
    *,
    table: FromClause | None = None,
    reads: tuple[str, ...] = (),
    columns: tuple[ColumnElement[Any], ...] = (),
    joins: tuple[tuple[Any, ColumnElement[bool]], ...] = (),
    by_id: ById | None = None,
) -> Callable[[C], C]:
    """`@object_type("...", Guard(Action.READ_ORGANIZATION, of_organization))`: a type whose objects
    require `guard` (None: any signed-in caller), as its fields do unless they say otherwise.
    With `table`, its rows are the read model's (`TypeDeclared.rows`: `reads` names the columns its
    guard and computed fields read besides its declared ones; `columns` come from `joins`)."""

    def decorate(cls: C) -> C:
        type_name = cls.__name__
        is_node = issubclass(cls, Node)
        if is_node and "id" not in cls.__dict__:
            _declare_id(cls, type_name)
        action = None if guard is None else guard.action
        decorated = strawberry.type(cls, description=described(description, action))
        TYPES[type_name] = TypeDeclared(guard, decorated, table, reads, columns, joins, by_id, is_node)
        CLASSES[type_name] = decorated
        return decorated

    return decorate


node_type = object_type


def _declare_id(cls: type, kind: str) -> None:
    """A node's `id`: `to_global_id(kind, row.id)`, and the same in SQL."""
    prefix = f"{kind}:"

    def sql(columns: Any, coverages: Any) -> ColumnElement[Any]:
        return global_id_sql(prefix, columns.id)

    cls.id = computed(lambda row: to_global_id(kind, row.id), NODE_ID, sql=sql)  # type: ignore[attr-defined]
    cls.__annotations__ = {**cls.__annotations__, "id": strawberry.ID}


def global_id_sql(prefix: str, key: Any) -> ColumnElement[Any]:
    """`to_global_id` (and `encode_cursor`) in SQL: base64url of `prefix` and the key, unpadded."""
    return base64url(literal(prefix, Text).concat(sql_cast(key, Text)))


def to_one(type_name: str, key: str) -> Fetch:
    """A field naming one object of `type_name` by the id in `row.<key>` (None: none), its rows read
    for a whole level at once."""
    get = attrgetter(key)

    async def fetch(reading: Reading, parents: Sequence[Row], asked: Asked) -> list[Row | None]:
        keys = [get(parent) for parent in parents]
        found = await rows_by_ids(reading.source, rows_of(type_name), (k for k in keys if k is not None))
        return [None if k is None else found.get(k) for k in keys]

    return fetch


def children(
    type_name: str, parent: str, *, key: Callable[[Row], int | None] = attrgetter("id"), newest: bool = False
) -> Fetch:
    """A field listing the objects of `type_name` whose column `parent` holds `key(row)` (None:
    none), in id order; with `newest`, only the newest of them (or None). One read for a level."""

    async def fetch(reading: Reading, parents: Sequence[Row], asked: Asked) -> list[Any]:
        rows = rows_of(type_name)
        keys = [key(row) for row in parents]
        found = await rows_by_parent(
            reading.source, rows, rows.table.c[parent], [k for k in keys if k is not None], newest=newest
        )
        lists = [[] if k is None else found[k] for k in keys]
        return [items[-1] if items else None for items in lists] if newest else lists

    return fetch


def rows_of(type_name: str) -> Rows:
    """The read model's rows of a declared type."""
    rows = TYPES[type_name].rows
    assert rows is not None, f"{type_name} reads no table"
    return rows


def _each_declares_its_id(root: Any) -> strawberry.ID:
    raise AssertionError("every node type declares its own `id` (object_type)")


@strawberry.interface(description="An object with a global ID (Relay); fetch it again with `node(id:)`.")
class Node:
    row: strawberry.Private[Any]
    id: strawberry.ID = strawberry.field(resolver=_each_declares_its_id, description=NODE_ID)


def _cursor_sql(columns: Any, coverages: Any) -> ColumnElement[Any]:
    return global_id_sql(CURSOR_PREFIX, columns.id)


@strawberry.type(description="One item of a connection's page, with its cursor.")
class Edge(Generic[T]):
    """Its row is its node's."""

    row: strawberry.Private[Any]
    cursor: str = computed(
        lambda row: encode_cursor(row.id),
        "Opaque; pass it as `after` to read on from this item.",
        sql=_cursor_sql,
    )
    node: T = joined(None, "The item.")


@strawberry.type(description="Where a page of a connection starts and ends, and whether more lie beyond.")
class PageInfo:
    """Its row is the connection's page (`domain.queries.pages.Page`)."""

    row: strawberry.Private[Any]
    has_next_page: bool = computed(
        lambda page: page.has_next,
        "Whether more items follow this page (page on with `after: endCursor`). Known when "
        "paging forward; always false when paging with `last`.",
    )
    has_previous_page: bool = computed(
        lambda page: page.has_previous,
        "Whether more items precede this page (page back with `before: startCursor`). Known "
        "when paging with `last`; always false when paging forward (`first`), as Relay's spec allows.",
    )
    start_cursor: str | None = computed(
        lambda page: encode_cursor(page.items[0].id) if page.items else None,
        "The cursor of the page's first edge; null when the page is empty.",
    )
    end_cursor: str | None = computed(
        lambda page: encode_cursor(page.items[-1].id) if page.items else None,
        "The cursor of the page's last edge; null when the page is empty.",
    )


@strawberry.type(description="One page of a list (a Relay connection), in a stable order.")
class Connection(Generic[T]):
    """Its row is a `ConnectionRow`: a parent's page, and how to count the parent's whole list."""

    row: strawberry.Private[ConnectionRow]
    edges: list[Edge[T]] = computed(lambda connection: connection.page.items, "The page's items, in order.")
    page_info: PageInfo = computed(
        lambda connection: connection.page, "Where the page ends and whether more follow."
    )
    total_count: int = batch(count_connections, "How many items the whole list holds (all pages).")
