"""`node` and `nodes`: global ids back to objects, only those the caller may see.

A malformed id, a missing row and an object the caller may not see all give null, so a caller
cannot tell another organization's objects from absent ones. What a caller may see of each type,
and how its rows are read by id, is the type's declaration (`api.graphql.declared.TYPES`).
"""

from __future__ import annotations

from collections.abc import Sequence

from api.graphql.declared import TYPES, Asked, Reading, Row, Typed
from api.graphql.ids import from_global_id
from api.graphql.pagination import BadUserInputError

MAX_NODES = 100


async def visible_nodes(reading: Reading, named: Sequence[tuple[str, int] | None]) -> list[Typed | None]:
    """Each (kind, key)'s object when it exists and the caller may see it, else None (one read per
    kind named)."""
    wanted: dict[str, set[int]] = {}
    for item in named:
        if item is not None and item[0] in TYPES and TYPES[item[0]].by_id is not None:
            wanted.setdefault(item[0], set()).add(item[1])
    visible: dict[str, dict[int, Row]] = {}
    for kind, keys in wanted.items():
        declared = TYPES[kind]
        assert declared.by_id is not None
        found = await declared.by_id(reading.source, sorted(keys))
        visible[kind] = {key: row for key, row in found.items() if declared.visible(reading.context, row)}
    return [
        Typed(item[0], visible[item[0]][item[1]])
        if item is not None and item[1] in visible.get(item[0], {})
        else None
        for item in named
    ]


async def node(reading: Reading, roots: Sequence[Row], asked: Asked) -> list[Typed | None]:
    found = await visible_nodes(reading, [from_global_id(asked.args["id"])])
    return found * len(roots)


async def nodes(reading: Reading, roots: Sequence[Row], asked: Asked) -> list[list[Typed | None] | Exception]:
    ids = asked.args["ids"]
    if len(ids) > MAX_NODES:
        return [BadUserInputError(f"`ids` may hold at most {MAX_NODES} IDs.") for _ in roots]
    found = await visible_nodes(reading, [from_global_id(value) for value in ids])
    return [found for _ in roots]
