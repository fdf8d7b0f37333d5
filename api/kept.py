"""Values by key, the pinned ones kept for the life of the process and the others least recently
used first out: the parsed documents (`api.trusted.parsed`) and the plans (`api.read.extension`),
whose trusted entries are made at start-up and never let go.

    kept = Kept(capacity=1000)
    kept.pin(key, value)          # for good (taken out of the recent ones)
    kept.put(key, value)          # among the recent ones, the oldest let go past `capacity`
    kept.get(key)                 # the value, or None
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Kept(Generic[K, V]):
    def __init__(self, capacity: int) -> None:
        self._pinned: dict[K, V] = {}
        self._recent: OrderedDict[K, V] = OrderedDict()
        self._capacity = capacity

    def get(self, key: K) -> V | None:
        found = self._pinned.get(key)
        if found is not None:
            return found
        found = self._recent.get(key)
        if found is not None:
            self._recent.move_to_end(key)
        return found

    def is_pinned(self, key: K) -> bool:
        return key in self._pinned

    def pin(self, key: K, value: V) -> None:
        self._recent.pop(key, None)
        self._pinned[key] = value

    def put(self, key: K, value: V) -> None:
        """Keeps `value`: in place of a pinned one under `key`, else among the recent ones."""
        if key in self._pinned:
            self._pinned[key] = value
            return
        self._recent[key] = value
        while len(self._recent) > self._capacity:
            self._recent.popitem(last=False)
