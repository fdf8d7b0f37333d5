"""Date and DateTime for the generated Python client (copied into its package by ariadne-codegen).

The API writes both in ISO 8601: `2027-06-30`, and `2026-11-21T09:30:00+00:00` or `...Z` (UTC).
"""

from __future__ import annotations

from datetime import UTC, date, datetime


def parse_date(value: str) -> date:
    return date.fromisoformat(value)


def serialize_date(value: date) -> str:
    return value.isoformat()


def parse_datetime(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def serialize_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("a DateTime needs a time zone")
    return value.astimezone(UTC).isoformat()
