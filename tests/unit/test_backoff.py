"""The retry schedule of outgoing email: exponential back-off, capped, then a dead letter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.mail.outbox import (
    DEFAULT_MAX_ATTEMPTS,
    MAX_ERROR_LENGTH,
    exponential_backoff,
    retry_at,
    truncate_error,
)

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("attempts", "seconds"),
    [(1, 30), (2, 60), (3, 120), (4, 240), (5, 480), (6, 960), (7, 1920), (8, 3600), (9, 3600)],
)
def test_back_off_doubles_from_thirty_seconds_up_to_an_hour(attempts: int, seconds: int) -> None:
    assert exponential_backoff(attempts) == timedelta(seconds=seconds)


def test_back_off_stays_at_the_cap_for_absurd_attempt_counts() -> None:
    assert exponential_backoff(10_000) == timedelta(hours=1)


def test_back_off_base_and_cap_are_knobs() -> None:
    assert exponential_backoff(3, base=1, cap=3) == timedelta(seconds=3)


def test_a_failed_message_is_retried_after_its_back_off() -> None:
    assert retry_at(1, NOW, DEFAULT_MAX_ATTEMPTS) == NOW + timedelta(seconds=30)


def test_the_last_allowed_failure_is_still_retried() -> None:
    assert retry_at(DEFAULT_MAX_ATTEMPTS - 1, NOW, DEFAULT_MAX_ATTEMPTS) is not None


def test_a_message_is_given_up_after_max_attempts() -> None:
    assert retry_at(DEFAULT_MAX_ATTEMPTS, NOW, DEFAULT_MAX_ATTEMPTS) is None


def test_the_default_gives_a_message_eight_attempts() -> None:
    assert DEFAULT_MAX_ATTEMPTS == 8


def test_an_injected_schedule_replaces_the_default() -> None:
    assert retry_at(2, NOW, 5, lambda attempts: timedelta(minutes=attempts)) == NOW + timedelta(minutes=2)


def test_a_long_error_is_truncated_for_the_operator() -> None:
    kept = truncate_error("x" * 10_000)

    assert len(kept) == MAX_ERROR_LENGTH
    assert kept.endswith("…")


def test_a_short_error_is_kept_whole() -> None:
    assert truncate_error("550 5.1.1 No such user") == "550 5.1.1 No such user"
