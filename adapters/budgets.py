"""Each caller's budget of cost points per minute (CONTRACT 6.3): in this process, or in Redis.

    budgets = InProcessBudgets(points=100_000)        # or RedisBudgets(url, points=...)
    charge = await budgets.charge("tenant:object", 1_152)
    charge.allowed, charge.remaining, charge.reset_at

A fixed window per caller and minute, as GitHub's GraphQL API counts: a request is allowed when
its points fit in what is left of the window, and is then charged; a refused request is not
charged. With Redis every server process shares the budgets (one atomic script per request). When
Redis cannot be reached each process falls back to a budget of its own (CONTRACT 6.5), says so once
as a warning, and asks Redis again every `retry_seconds`; the shared budget resumes (and is said to)
at the first answer. The limit protects the service; it must not become the outage.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

logger = logging.getLogger("incentives.limits")

WINDOW_SECONDS = 60
DEFAULT_POINTS = 100_000  # per caller and minute
MAX_CALLERS_IN_PROCESS = 100_000  # then windows that have ended are dropped
# While Redis is away, how often a request asks it again (the others use the local budget without
# waiting on a connect timeout).
REDIS_RETRY_SECONDS = 1.0


@dataclass(frozen=True)
class Charge:
    allowed: bool
    limit: int
    remaining: int
    reset_at: float  # Unix time the window ends

    def retry_after(self, now: float) -> int:
        """Whole seconds until the window ends (at least 1)."""
        return max(1, int(self.reset_at - now + 0.999))


class Budgets(Protocol):
    points: int

    async def charge(self, caller: str, points: int) -> Charge:
        """Charge `points` to `caller`'s budget if they fit in it (0 only asks what is left)."""
        ...

    async def close(self) -> None: ...


def _window(now: float) -> int:
    return int(now // WINDOW_SECONDS)


class InProcessBudgets:
    """Budgets kept in this process (each server process counts its own)."""

    def __init__(self, points: int, *, now: Callable[[], float] = time.time) -> None:
        self.points = points
        self._now = now
        self._used: dict[str, tuple[int, int]] = {}  # caller: (window, points used in it)

    async def charge(self, caller: str, points: int) -> Charge:
        now = self._now()
        window = _window(now)
        started, used = self._used.get(caller, (window, 0))
        if started != window:
            used = 0
        allowed = used + points <= self.points
        if allowed and points:
            if len(self._used) >= MAX_CALLERS_IN_PROCESS and caller not in self._used:
                self._forget_ended(window)
            used += points
            self._used[caller] = (window, used)
        reset_at = float((window + 1) * WINDOW_SECONDS)
        return Charge(allowed, self.points, max(0, self.points - used), reset_at)

    def _forget_ended(self, window: int) -> None:
        self._used = {caller: entry for caller, entry in self._used.items() if entry[0] == window}

    async def close(self) -> None:
        return None


# KEYS[1] the caller's key for this window; ARGV: points, limit, window seconds.
# Returns {allowed (0/1), points used in the window}.
_CHARGE = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local points = tonumber(ARGV[1])
if used + points > tonumber(ARGV[2]) then return {0, used} end
if points == 0 then return {1, used} end
used = redis.call('INCRBY', KEYS[1], points)
if used == points then redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]) + 5) end
return {1, used}
"""


class RedisBudgets:
    """Budgets in Redis, shared by every server process that uses the same Redis; while Redis is
    away, this process's own (`InProcessBudgets`)."""

    def __init__(
        self,
        url: str,
        points: int,
        *,
        prefix: str = "incentives:budget",
        now: Callable[[], float] = time.time,
        retry_seconds: float = REDIS_RETRY_SECONDS,
    ) -> None:
        import redis.asyncio

        self.points = points
        self._redis: Any = redis.asyncio.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self._script = self._redis.register_script(_CHARGE)
        self._prefix = prefix
        self._now = now
        self._local = InProcessBudgets(points, now=now)
        self._retry_seconds = retry_seconds
        self._away_until: float | None = None  # set while Redis is away: when to ask it again

    @property
    def shared(self) -> bool:
        """False while Redis is away and this process counts on its own."""
        return self._away_until is None

    async def charge(self, caller: str, points: int) -> Charge:
        now = self._now()
        if self._away_until is not None and now < self._away_until:
            return await self._local.charge(caller, points)
        window = _window(now)
        key = f"{self._prefix}:{window}:{caller}"
        try:
            allowed, used = await self._script(keys=[key], args=[points, self.points, WINDOW_SECONDS])
        except Exception:  # Redis away (refused, timed out, restarting): the local budget serves
            self._went_away(now)
            return await self._local.charge(caller, points)
        if self._away_until is not None:
            self._away_until = None
            logger.info("Redis answers again: rate limit budgets are shared once more")
        reset_at = float((window + 1) * WINDOW_SECONDS)
        return Charge(bool(allowed), self.points, max(0, self.points - int(used)), reset_at)

    def _went_away(self, now: float) -> None:
        if self._away_until is None:  # once per outage, not once per request
            logger.warning(
                "rate limit budgets unavailable (Redis); each process keeps its own until it returns",
                exc_info=True,
            )
        self._away_until = now + self._retry_seconds

    async def close(self) -> None:
        await self._redis.aclose()
