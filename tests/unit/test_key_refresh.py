"""The background key refresher: a round per interval, survives failures, stops cleanly."""

from __future__ import annotations

import asyncio

import pytest

from api.composition import key_refresh_loop

WAIT = 5.0


class FakeKeys:
    def __init__(self, failures: int = 0) -> None:
        self.rounds = 0
        self.failures = failures
        self.refreshed = asyncio.Event()

    async def refresh_in_use(self) -> None:
        self.rounds += 1
        if self.rounds <= self.failures:
            raise RuntimeError("the authority said something strange")
        self.refreshed.set()


class FakeSleep:
    """Records the intervals asked for and returns at once (yielding to the loop)."""

    def __init__(self) -> None:
        self.intervals: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.intervals.append(seconds)
        await asyncio.sleep(0)


async def test_the_refresher_refreshes_once_per_interval_until_stopped() -> None:
    keys, sleep = FakeKeys(), FakeSleep()
    refresher = key_refresh_loop(keys.refresh_in_use, interval=3300, sleep=sleep)

    refresher.start()
    async with asyncio.timeout(WAIT):
        await keys.refreshed.wait()
    await refresher.stop()
    rounds = keys.rounds
    await asyncio.sleep(0.01)

    assert not refresher.running
    assert rounds >= 1
    assert keys.rounds == rounds
    assert set(sleep.intervals) == {3300}


async def test_a_failing_round_is_logged_and_the_next_round_still_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    keys = FakeKeys(failures=2)
    refresher = key_refresh_loop(keys.refresh_in_use, interval=1, sleep=FakeSleep())

    refresher.start()
    async with asyncio.timeout(WAIT):
        await keys.refreshed.wait()
    await refresher.stop()

    assert keys.rounds >= 3
    assert caplog.text.count("background refresh of signing keys failed") == 2


async def test_the_first_round_waits_one_interval_because_startup_keys_are_fetched_on_demand() -> None:
    keys = FakeKeys()
    refresher = key_refresh_loop(keys.refresh_in_use, interval=3600)

    refresher.start()
    await asyncio.sleep(0.01)
    await refresher.stop()

    assert keys.rounds == 0


def test_a_refresher_needs_a_positive_interval() -> None:
    with pytest.raises(ValueError, match="positive"):
        key_refresh_loop(FakeKeys().refresh_in_use, interval=0)


async def test_a_refresher_cannot_be_started_twice() -> None:
    refresher = key_refresh_loop(FakeKeys().refresh_in_use, interval=3600)
    refresher.start()
    try:
        with pytest.raises(RuntimeError, match="already started"):
            refresher.start()
    finally:
        await refresher.stop()
