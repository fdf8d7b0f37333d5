"""Before anything is timed: every server must give the same (normalised) data for every request
the load will send, and its statements per request are counted.

    found = await answers(http, url, "floor", ops, token, today)
    same(reference, found, "floor", "incentives")     # raises Mismatch, saying where
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx

from bench.api.operations import OURS, POSTGRAPHILE, Json, Operation
from bench.api.wire import is_control

Answers = dict[str, list[Any]]


class Mismatch(AssertionError):
    """Two servers answered one request with different data."""


def bodies_for(kind: str, operation: Operation) -> Sequence[Json]:
    return operation.postgraphile if kind == "postgraphile" else operation.ours


def normalise(kind: str, operation: str, answer: Json, today: date) -> Any:
    if kind == "postgraphile":
        return POSTGRAPHILE[operation](answer, today)
    return OURS[operation](answer)


async def ask(http: httpx.AsyncClient, url: str, body: Json, token: str) -> Json:
    response = await http.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
    if response.status_code != 200:
        raise Mismatch(f"{url} answered {response.status_code}: {response.text[:500]}")
    answer: Json = response.json()
    return answer


async def answers(
    http: httpx.AsyncClient, url: str, kind: str, operations: Sequence[Operation], token: str, today: date
) -> Answers:
    """Every body of every operation, asked once, answers normalised."""
    found: Answers = {}
    for operation in operations:
        found[operation.name] = [
            normalise(kind, operation.name, await ask(http, url, body, token), today)
            for body in bodies_for(kind, operation)
        ]
    return found


def first_difference(left: Any, right: Any, path: str = "") -> str | None:
    if type(left) is not type(right):
        return f"{path or '/'}: {left!r} != {right!r}"
    if isinstance(left, dict):
        for key in sorted(set(left) | set(right)):
            if key not in left or key not in right:
                return f"{path}/{key}: present in one answer only"
            found = first_difference(left[key], right[key], f"{path}/{key}")
            if found:
                return found
        return None
    if isinstance(left, list):
        if len(left) != len(right):
            return f"{path or '/'}: {len(left)} items != {len(right)} items"
        for index, (a, b) in enumerate(zip(left, right, strict=True)):
            found = first_difference(a, b, f"{path}[{index}]")
            if found:
                return found
        return None
    return None if left == right else f"{path or '/'}: {left!r} != {right!r}"


def same(reference: Answers, other: Answers, reference_name: str, other_name: str) -> None:
    """Raise `Mismatch` at the first difference between two servers' answers."""
    difference = first_difference(reference, other)
    if difference:
        raise Mismatch(f"{other_name} and {reference_name} answer differently at {difference}")


async def probe(
    http: httpx.AsyncClient,
    url: str,
    kind: str,
    operation: Operation,
    token: str,
    today: date,
    expected: list[Any],
) -> float:
    """Ask a few of the operation's requests alone, check their data, and return the median time."""
    bodies = bodies_for(kind, operation)
    seconds = []
    for index in range(min(3, len(bodies))):
        started = time.perf_counter()
        answer = await ask(http, url, bodies[index], token)
        seconds.append(time.perf_counter() - started)
        difference = first_difference(expected[index], normalise(kind, operation.name, answer, today))
        if difference:
            raise Mismatch(f"{url} ({kind}) now answers {operation.name} differently at {difference}")
    return statistics.median(seconds)


@dataclass(frozen=True)
class Statements:
    """Statements per request, as counted: all round trips, and those that read data."""

    per_request: float
    reading: float
    method: str
    kinds: dict[str, float]

    def summary(self) -> dict[str, Any]:
        return vars(self)


async def count(
    http: httpx.AsyncClient,
    url: str,
    kind: str,
    operation: Operation,
    token: str,
    executed: list[str],
    method: str,
    repeats: int = 5,
) -> Statements:
    """What `repeats` requests (after one unmeasured) add to `executed`, per request."""
    bodies = bodies_for(kind, operation)
    await ask(http, url, bodies[0], token)
    before = len(executed)
    for index in range(repeats):
        await ask(http, url, bodies[index % len(bodies)], token)
    sent = executed[before:]
    heads = Counter(" ".join(sql.split())[:60] for sql in sent)
    return Statements(
        per_request=len(sent) / repeats,
        reading=sum(1 for sql in sent if not is_control(sql)) / repeats,
        method=method,
        kinds={head: n / repeats for head, n in heads.most_common()},
    )
