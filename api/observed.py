"""What one request to /graphql did, for its metrics and its log line (docs/observability.md).

The request's `Seen` is set for the request (`api.observe.Observed`, only while metrics or JSON
logs are on); the parts of the request path that know something tell it here in one call each, and
do nothing when no request is being observed:

    observed.admitted("query", "Dashboard", cost=120)   # api.graphql.admission.admit
    observed.errors(errors)                              # api.graphql.errors.show: the first code
    observed.planned()                                   # the planned read answered it
    observed.token_refused(reason)                       # api.app: 401
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Protocol

ANONYMOUS = "anonymous"


class _Coded(Protocol):
    extensions: dict[str, object] | None


@dataclass(slots=True)
class Seen:
    """One request, as far as it got."""

    started: float = field(default_factory=time.perf_counter)
    operation_type: str = ""  # query, mutation, subscription; "" when it never got that far
    operation_name: str | None = None
    cost: int = 0
    code: str | None = None  # the answer's first error code
    statements: int = 0
    planned: bool = False
    token_refusal: str | None = None


current: ContextVar[Seen | None] = ContextVar("seen", default=None)


def admitted(operation_type: str, name: str | None, cost: int) -> None:
    seen = current.get()
    if seen is not None:
        seen.operation_type, seen.operation_name, seen.cost = operation_type, name, cost


def errors(found: Sequence[_Coded]) -> None:
    """The first error's code (INTERNAL for one without: a masked error)."""
    seen = current.get()
    if seen is not None and seen.code is None and found:
        code = (found[0].extensions or {}).get("code")
        seen.code = code if isinstance(code, str) else "INTERNAL"


def planned() -> None:
    seen = current.get()
    if seen is not None:
        seen.planned = True


def token_refused(reason: str) -> None:
    seen = current.get()
    if seen is not None:
        seen.token_refusal = reason


def statement() -> None:
    seen = current.get()
    if seen is not None:
        seen.statements += 1
