"""Redis goes away (CONTRACT 6.5, issue 24 item 4): two servers sharing a private `redis-server`.

While it is away each server keeps its own budget of INCENTIVES_RATE_LIMIT_POINTS, says so once
as a warning, and every request still gets an answer; once it is back the budget is shared again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from adapters.budgets import REDIS_RETRY_SECONDS
from tests.api.test_limits import spend
from tests.support import personas
from tests.support.configured_api import configured_api
from tests.support.entra import RunningEntra
from tests.support.redis_server import private_redis

OUTAGE_WARNING = "rate limit budgets unavailable (Redis)"
Phase = Callable[[str, set[str]], list[int]]


def in_one_window(entra: RunningEntra, phase: Phase) -> list[int]:
    """`phase`'s statuses for a new caller, run again (up to 3 times) if it crossed a minute's window."""
    for _ in range(3):
        token, windows = personas.user(entra, personas.Tenant()).token, set[str]()
        statuses = phase(token, windows)
        if len(windows) == 1:
            return statuses
    pytest.fail("three runs each crossed a budget window")


def test_while_redis_is_away_each_server_counts_alone_and_the_shared_budget_resumes(
    entra: RunningEntra, sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # 100 points a minute; a request costs 30: three fit, the fourth is refused.
    with private_redis(tmp_path) as redis:
        settings = {"rate_limit_points": 100, "redis_url": redis.url}
        with (
            configured_api(sqlite_url, authority=entra.base_url, **settings) as first,
            configured_api(sqlite_url, authority=entra.base_url, **settings) as second,
        ):

            def across_both(token: str, windows: set[str]) -> list[int]:
                return [*spend(first, token, 2, windows), *spend(second, token, 2, windows)]

            def each_alone(token: str, windows: set[str]) -> list[int]:
                return [*spend(first, token, 4, windows), *spend(second, token, 4, windows)]

            shared_before = in_one_window(entra, across_both)
            redis.stop()
            with caplog.at_level(logging.WARNING, logger="incentives.limits"):
                while_away = in_one_window(entra, each_alone)
                more_while_away = spend(first, personas.user(entra, personas.Tenant()).token, 5)
            warnings = [record for record in caplog.records if OUTAGE_WARNING in record.getMessage()]
            redis.start()
            _next_request_asks_redis_again()
            shared_after = in_one_window(entra, across_both)

    assert shared_before == [200, 200, 200, 429]
    assert while_away == [200, 200, 200, 429] * 2, "each server's own budget, still answering"
    assert more_while_away == [200, 200, 200, 429, 429]
    assert len(warnings) == 2, "once per server (each has its own budgets), not once per request"
    assert shared_after == [200, 200, 200, 429], "the shared budget resumes when Redis returns"


def _next_request_asks_redis_again() -> None:
    # While Redis is away a server asks it again at most every REDIS_RETRY_SECONDS.
    time.sleep(REDIS_RETRY_SECONDS + 0.2)
