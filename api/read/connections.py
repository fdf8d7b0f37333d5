"""Cursor connections in a planned read: a page of rows becomes `edges`, `pageInfo` and `totalCount`.

A list field's handler builds one `Paged` per parent; these handlers answer the fields of every
connection, edge and `PageInfo` type, and `totalCount` costs one grouped count for all the
connections of a field, only when it is asked for.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from graphql import GraphQLObjectType

from api.graphql.pagination import encode_cursor
from api.read.collect import Field
from api.read.engine import Handler, Local, LocalFactory, Obj, Run, lasting, returned_type
from domain.queries.pages import Page

Counts = Callable[[list[Hashable]], Awaitable[dict[Hashable, int]]]


@dataclass(frozen=True, slots=True)
class Counter:
    """How the connections of one field count their whole lists: one call for all their keys."""

    counts: Counts


@dataclass(frozen=True, slots=True)
class Paged:
    """A connection's source: its page of rows, its node type, and how to count the whole list."""

    page: Page[Any]
    node_type: GraphQLObjectType
    counter: Counter
    count_key: Hashable


@dataclass(frozen=True, slots=True)
class PageInfoRow:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None

    @classmethod
    def of(cls, page: Page[Any]) -> PageInfoRow:
        items = page.items
        return cls(
            page.has_next,
            page.has_previous,
            encode_cursor(items[0].id) if items else None,
            encode_cursor(items[-1].id) if items else None,
        )


def paged(run: Run, asked: Field, parents: list[Obj], pages: list[Paged | None]) -> list[Obj]:
    """Set each parent's connection (None: left null) and return the connection objects."""
    type_ = returned_type(asked)
    made = []
    for parent, source in zip(parents, pages, strict=True):
        if source is None:
            parent.out[asked.key] = None
            continue
        obj = run.child(type_, source, parent, asked)
        parent.out[asked.key] = obj.out
        made.append(obj)
    return made


async def edges(run: Run, asked: Field, connections: list[Obj]) -> None:
    edge_type = returned_type(asked)
    items = []
    for connection in connections:
        source: Paged = connection.row
        out = []
        for index, row in enumerate(source.page.items):
            edge = run.child(edge_type, row, connection, asked, index)
            out.append(edge.out)
            items.append(edge)
        connection.out[asked.key] = out
    await run.objects(asked.selection, items)


async def edge_node(run: Run, asked: Field, edges_: list[Obj]) -> None:
    nodes = []
    for edge in edges_:
        source: Paged = edge.parent.row  # type: ignore[union-attr]
        node = run.child(source.node_type, edge.row, edge, asked)
        edge.out[asked.key] = node.out
        nodes.append(node)
    await run.objects(asked.selection, nodes)


async def edge_cursor(run: Run, asked: Field, edges_: list[Obj]) -> None:
    for edge in edges_:
        edge.out[asked.key] = encode_cursor(edge.row.id)


async def page_info(run: Run, asked: Field, connections: list[Obj]) -> None:
    info_type = returned_type(asked)
    infos = []
    for connection in connections:
        source: Paged = connection.row
        info = run.child(info_type, PageInfoRow.of(source.page), connection, asked)
        connection.out[asked.key] = info.out
        infos.append(info)
    await run.objects(asked.selection, infos)


async def total_count(run: Run, asked: Field, connections: list[Obj]) -> None:
    by_counter: dict[int, tuple[Counter, list[Obj]]] = {}
    for connection in connections:
        source: Paged = connection.row
        by_counter.setdefault(id(source.counter), (source.counter, []))[1].append(connection)
    for counter, group in by_counter.values():
        found = await counter.counts([obj.row.count_key for obj in group])
        for obj in group:
            obj.out[asked.key] = found[obj.row.count_key]


def _page_info_field(name: str) -> Handler:
    """The handler of a `PageInfo` field: read off its row."""
    get = attrgetter(name)

    def handle(run: Run, asked: Field, infos: list[Obj]) -> Awaitable[None]:
        return _scalar(infos, asked, get)

    return handle


def _page_info_local_field(name: str) -> LocalFactory:
    get = attrgetter(name)

    @lasting
    def factory(run: Run, asked: Field) -> Local | None:
        return get

    return factory


PAGE_INFO_FIELDS = {
    "hasNextPage": "has_next_page",
    "hasPreviousPage": "has_previous_page",
    "startCursor": "start_cursor",
    "endCursor": "end_cursor",
}


async def _scalar(objs: list[Obj], asked: Field, get: Callable[[Any], Any]) -> None:
    for obj in objs:
        obj.out[asked.key] = get(obj.row)


def handlers(connection_types: list[str]) -> dict[tuple[str, str], Handler]:
    """The handlers of every connection type named, of its edge type, and of `PageInfo`."""
    found: dict[tuple[str, str], Handler] = {
        ("PageInfo", name): _page_info_field(attribute) for name, attribute in PAGE_INFO_FIELDS.items()
    }
    for name in connection_types:
        edge = name.removesuffix("Connection") + "Edge"
        found[(name, "edges")] = edges
        found[(name, "pageInfo")] = page_info
        found[(name, "totalCount")] = total_count
        found[(edge, "node")] = edge_node
        found[(edge, "cursor")] = edge_cursor
    return found


# --- read off the row alone (`Run.builder`) ---------------------------------------------------------


@lasting
def _edges_local(run: Run, asked: Field) -> Local | None:
    build = run.builder(returned_type(asked), asked.selection)
    if build is None:
        return None
    return lambda source: [build(row) for row in source.page.items]


@lasting
def _page_info_local(run: Run, asked: Field) -> Local | None:
    build = run.builder(returned_type(asked), asked.selection)
    if build is None:
        return None

    return lambda source: build(PageInfoRow.of(source.page))


@lasting
def _node_local(run: Run, asked: Field) -> Local | None:
    return run.builder(returned_type(asked), asked.selection)


@lasting
def _cursor_local(run: Run, asked: Field) -> Local | None:
    return lambda row: encode_cursor(row.id)


def locals_(connection_types: list[str]) -> dict[tuple[str, str], LocalFactory]:
    """The fields of connections, edges and `PageInfo` that need no SQL (all but `totalCount`)."""
    found: dict[tuple[str, str], LocalFactory] = {
        ("PageInfo", name): _page_info_local_field(attribute) for name, attribute in PAGE_INFO_FIELDS.items()
    }
    for name in connection_types:
        edge = name.removesuffix("Connection") + "Edge"
        found[(name, "edges")] = _edges_local
        found[(name, "pageInfo")] = _page_info_local
        found[(edge, "node")] = _node_local
        found[(edge, "cursor")] = _cursor_local
    return found
