"""What every object type shares: the typed `Info`, the `Node` interface, connections, and access:
every type and restricted field names its `domain.access.Action`, from which its description
and its FORBIDDEN refusal are derived."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeAlias, TypeVar, cast, dataclass_transform

import strawberry
from strawberry.types.field import StrawberryField

# Imported for its side effect: it registers the domain's enums with strawberry.
import api.graphql.enums  # noqa: F401
from api.graphql.context import Context
from api.graphql.errors import ForbiddenError
from api.graphql.pagination import PageInfo, encode_cursor, page_info
from domain.access import Action, Scope, requirement
from domain.queries.pages import Page

Info: TypeAlias = strawberry.Info[Context, None]

T = TypeVar("T")
N = TypeVar("N")
M = TypeVar("M")
F = TypeVar("F", bound=Callable[..., Any])
C = TypeVar("C", bound=type)

# The metadata key under which a field names the `domain.access.Action` it requires.
ACCESS = "access"


class Inherited(enum.Enum):
    """A field that requires what its type requires (no access of its own)."""

    ACCESS = "inherited"


INHERITED = Inherited.ACCESS
# Each object type's access, by class: what `docs/access-matrix.md` reads besides the fields' own.
TYPE_ACCESS: dict[type, Action | None] = {}


def described(text: str, action: Action | None) -> str:
    """`text` and who may read or do it (saleor style: codegen users see the access rules)."""
    return f"{text} {requirement(action)}"


@dataclass_transform(
    order_default=True, kw_only_default=True, field_specifiers=(strawberry.field, StrawberryField)
)
def object_type(description: str, action: Action | None) -> Callable[[C], C]:
    """`@object_type("...", Action.READ_ORGANIZATION)`: a type whose fields require `action`
    (None: any signed-in caller) unless a field says otherwise."""

    def decorate(cls: C) -> C:
        decorated = strawberry.type(cls, description=described(description, action))
        TYPE_ACCESS[decorated] = action
        return decorated

    return decorate


def field(description: str, action: Action | Inherited | None = INHERITED) -> Callable[[F], F]:
    """`@field("...")`: a described resolver that stays typed for mypy (`strawberry.field(...)` is Any).

    With `action`, the field requires it (None: any signed-in caller) and its description says who.
    """

    def decorate(resolver: F) -> F:
        if action is INHERITED:
            return cast(F, strawberry.field(resolver, description=description))
        return cast(
            F,
            strawberry.field(resolver, description=described(description, action), metadata={ACCESS: action}),
        )

    return decorate


def field_of(resolver: Callable[..., Any], description: str, action: Action | None) -> Any:
    """A field for a resolver defined elsewhere, requiring `action` (None: any signed-in caller)."""
    return strawberry.field(
        resolver=resolver, description=described(description, action), metadata={ACCESS: action}
    )


def subscription_of(resolver: Callable[..., Any], description: str, action: Action) -> Any:
    """A subscription field whose events are those `action` lets the caller see."""
    return strawberry.subscription(
        resolver=resolver, description=described(description, action), metadata={ACCESS: action}
    )


@strawberry.interface(description="An object with a global ID (Relay); fetch it again with `node(id:)`.")
class Node:
    id: strawberry.ID = strawberry.field(description="The global ID: opaque, stable, unique across types.")


@strawberry.type(description="One item of a connection's page, with its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Opaque; pass it as `after` to read on from this item.")
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="One page of a list (a Relay connection), in a stable order.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The page's items, in order.")
    page_info: PageInfo = strawberry.field(description="Where the page ends and whether more follow.")
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @field("How many items the whole list holds (all pages).")
    async def total_count(self) -> int:
        return await self.count()


def connection(
    page: Page[M], key: Callable[[M], int], wrap: Callable[[M], N], count: Callable[[], Awaitable[int]]
) -> Connection[N]:
    """A connection over one page of models: cursors from `key`, nodes from `wrap`."""
    edges = [Edge(cursor=encode_cursor(key(item)), node=wrap(item)) for item in page.items]
    return Connection(edges=edges, page_info=page_info([key(item) for item in page.items], page), count=count)


def require(info: Info, action: Action, scope: Scope = Scope()) -> None:
    """Raise FORBIDDEN (null at this field's path) unless the caller may take `action` here."""
    if not info.context.principal.can(action, scope):
        raise ForbiddenError(action)
