"""Cursor connections (Relay's spec): opaque cursors over keyset keys, the paging arguments
`first`/`after`/`last`/`before` every connection field takes, and their checks."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

import strawberry
from graphql import FieldNode, VariableNode
from graphql.execution.values import VariableValues

from api.graphql.errors import ExpectedError
from domain.queries.pages import Page, PageArgs

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
CURSOR_PREFIX = "k:"  # inside every cursor (also written in SQL: api/read/json_pages.py)
MAX_KEY = 2**63 - 1  # keys are BIGINT: a larger one could not be compared with them in SQL

T = TypeVar("T")


class BadUserInputError(ExpectedError):
    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": "BAD_USER_INPUT"})


def encode_cursor(key: int) -> str:
    return base64.urlsafe_b64encode(f"{CURSOR_PREFIX}{key}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str, argument: str = "after") -> int:
    """The key inside a cursor this API issued; BAD_USER_INPUT naming `argument` for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    key = raw.removeprefix(CURSOR_PREFIX)
    if (
        len(cursor) > 40
        or not raw.startswith(CURSOR_PREFIX)
        or not (key.isascii() and key.isdigit())
        or int(key) > MAX_KEY
    ):
        raise BadUserInputError(f"`{argument}` is not a cursor of this list.")
    return int(key)


def given(value: T | None) -> T | None:
    """An optional argument's value; None when the client left it out (strawberry's UNSET)."""
    return None if value is None or value is strawberry.UNSET else value


First = Annotated[
    int | None,
    strawberry.argument(
        description=f"Page forward: the first this many items (1..{MAX_PAGE_SIZE}), after `after` when "
        f"given; {DEFAULT_PAGE_SIZE} when left out. Not with `last` (left out, it yields to `last`)."
    ),
]
After = Annotated[
    str | None,
    strawberry.argument(
        description="Only items after this cursor (an edge's `cursor` or `pageInfo.endCursor` of this "
        "list); with `before`, only those between the two."
    ),
]
Last = Annotated[
    int | None,
    strawberry.argument(
        description=f"Page backward: the last this many items (1..{MAX_PAGE_SIZE}), before `before` "
        "when given, still in the list's order. Not with `first`."
    ),
]
Before = Annotated[
    str | None,
    strawberry.argument(
        description="Only items before this cursor (an edge's `cursor` or `pageInfo.startCursor` of "
        "this list); with `after`, only those between the two."
    ),
]


def _size(value: int, argument: str) -> int:
    if not 1 <= value <= MAX_PAGE_SIZE:
        raise BadUserInputError(f"`{argument}` must be between 1 and {MAX_PAGE_SIZE}.")
    return value


def page_args(
    first: int | None,
    after: str | None,
    last: int | None = None,
    before: str | None = None,
    *,
    descending: bool = False,
    first_written: bool = True,
) -> PageArgs:
    """Checked paging arguments: `first` or `last` within 1..100 (neither: the first 20); `after`
    and `before` cursors of this API (null or left out: no bound). `first` has the schema's default
    of 20, so it counts against `last` only when the document gives it (`first_written`)."""
    first, after, last, before = given(first), given(after), given(last), given(before)
    if last is not None:
        if first is not None and first_written:
            raise BadUserInputError("Give `first` or `last`, not both.")
        size, backward = _size(last, "last"), True
    else:
        size, backward = DEFAULT_PAGE_SIZE if first is None else _size(first, "first"), False
    return PageArgs(
        size,
        None if after is None else decode_cursor(after, "after"),
        descending,
        None if before is None else decode_cursor(before, "before"),
        backward,
    )


def written(node: FieldNode, name: str, variables: Mapping[str, Any]) -> bool:
    """Whether the document gives the field's argument `name` a value: written, and when a variable,
    one the request gives (else the argument's default applies)."""
    for argument in node.arguments or ():
        if argument.name.value == name:
            value = argument.value
            return not isinstance(value, VariableNode) or value.name.value in variables
    return False


def paging(
    info: strawberry.Info[Any, Any],
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    *,
    descending: bool = False,
) -> PageArgs:
    """`page_args` of a connection field's resolver."""
    raw = info._raw_info
    values: Any = raw.variable_values  # a plain dict under Strawberry, whatever graphql-core's types say
    variables = values.coerced if isinstance(values, VariableValues) else values
    first_written = written(raw.field_nodes[0], "first", variables)
    return page_args(first, after, last, before, descending=descending, first_written=first_written)


@strawberry.type(description="Where a page of a connection starts and ends, and whether more lie beyond.")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="Whether more items follow this page (page on with `after: endCursor`). Known when "
        "paging forward; always false when paging with `last`."
    )
    has_previous_page: bool = strawberry.field(
        description="Whether more items precede this page (page back with `before: startCursor`). Known "
        "when paging with `last`; always false when paging forward (`first`), as Relay's spec allows."
    )
    start_cursor: str | None = strawberry.field(
        description="The cursor of the page's first edge; null when the page is empty."
    )
    end_cursor: str | None = strawberry.field(
        description="The cursor of the page's last edge; null when the page is empty."
    )


def page_info(keys: list[int], page: Page[Any]) -> PageInfo:
    return PageInfo(
        has_next_page=page.has_next,
        has_previous_page=page.has_previous,
        start_cursor=encode_cursor(keys[0]) if keys else None,
        end_cursor=encode_cursor(keys[-1]) if keys else None,
    )
