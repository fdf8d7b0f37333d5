"""What every object type shares: the typed `Info`, the `Node` interface, connections, access checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeAlias, TypeVar, cast

import strawberry

# Imported for its side effect: it registers the domain's enums with strawberry.
import api.graphql.enums  # noqa: F401
from api.graphql.context import Context
from api.graphql.errors import ForbiddenError
from api.graphql.pagination import PageInfo, encode_cursor, page_info
from domain.access import Action, Scope
from domain.queries.pages import Page

Info: TypeAlias = strawberry.Info[Context, None]

T = TypeVar("T")
N = TypeVar("N")
M = TypeVar("M")
F = TypeVar("F", bound=Callable[..., Any])

# Field descriptions carry the access rules, so the committed SDL documents them (saleor style).
ANY_MEMBER = "Requires one of: a member of the organization's tenants, operator."
SIGNED_IN = "Requires: any signed-in caller."


def field(description: str) -> Callable[[F], F]:
    """`@field("...")`: a described resolver that stays typed for mypy (`strawberry.field(...)` is Any)."""

    def decorate(resolver: F) -> F:
        return cast(F, strawberry.field(resolver, description=description))

    return decorate


def requires(*roles: str) -> str:
    return f"Requires one of: {', '.join(roles)}."


@strawberry.interface(description="An object with a global ID (Relay); fetch it again with `node(id:)`.")
class Node:
    id: strawberry.ID


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @field("How many items the whole list holds (all pages).")
    async def total_count(self) -> int:
        return await self.count()


def connection(
    page: Page[M], key: Callable[[M], int], wrap: Callable[[M], N], count: Callable[[], Awaitable[int]]
) -> Connection[N]:
    """A connection over one page of models: cursors from `key`, nodes from `wrap`."""
    edges = [Edge(cursor=encode_cursor(key(item)), node=wrap(item)) for item in page.items]
    return Connection(
        edges=edges, page_info=page_info([key(item) for item in page.items], page.has_next), count=count
    )


def require(info: Info, action: Action, scope: Scope, roles: Sequence[str]) -> None:
    """Raise FORBIDDEN (null at this field's path) unless the caller may take `action` here."""
    if not info.context.principal.can(action, scope):
        raise ForbiddenError(", ".join(roles))
