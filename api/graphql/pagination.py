"""Cursor connections: opaque cursors over keyset keys, and the checks on `first` and `after`."""

from __future__ import annotations

import base64
import binascii
from typing import TypeVar

import strawberry

from api.graphql.errors import ExpectedError
from domain.queries.pages import PageArgs

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
_PREFIX = "k:"
MAX_KEY = 2**63 - 1  # keys are BIGINT: a larger one could not be compared with them in SQL

T = TypeVar("T")


class BadUserInputError(ExpectedError):
    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": "BAD_USER_INPUT"})


def encode_cursor(key: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{key}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The key inside a cursor this API issued; BAD_USER_INPUT for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    key = raw.removeprefix(_PREFIX)
    if (
        len(cursor) > 40
        or not raw.startswith(_PREFIX)
        or not (key.isascii() and key.isdigit())
        or int(key) > MAX_KEY
    ):
        raise BadUserInputError("`after` is not a cursor of this list.")
    return int(key)


def given(value: T | None) -> T | None:
    """An optional argument's value; None when the client left it out (strawberry's UNSET)."""
    return None if value is None or value is strawberry.UNSET else value


def page_args(first: int | None, after: str | None, *, descending: bool = False) -> PageArgs:
    """Checked paging arguments: `first` within 1..100 (null or left out: the default of 20)."""
    size = given(first)
    size = DEFAULT_PAGE_SIZE if size is None else size
    after = given(after)
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise BadUserInputError(f"`first` must be between 1 and {MAX_PAGE_SIZE}.")
    return PageArgs(size, None if after is None else decode_cursor(after), descending)


@strawberry.type(description="Where a page of a connection ends.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether items follow this page.")
    end_cursor: str | None = strawberry.field(
        description="The last item's cursor, to pass as `after`; null when the page is empty."
    )


def page_info(keys: list[int], has_next: bool) -> PageInfo:
    return PageInfo(has_next_page=has_next, end_cursor=encode_cursor(keys[-1]) if keys else None)
