"""`DateTime` goes out to the second in UTC with "Z" and comes in as RFC 3339 with any offset; `Date` is
YYYY-MM-DD both ways (the schema's own scalars, as graphql-core runs them)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from graphql import GraphQLError, GraphQLScalarType

from api.graphql.schema import build_schema


def scalar(name: str) -> GraphQLScalarType:
    found = build_schema()._schema.type_map[name]
    assert isinstance(found, GraphQLScalarType)
    return found


@pytest.mark.parametrize(
    ("value", "sent"),
    [
        (datetime(2026, 7, 1, 0, 0, 0, 999999, tzinfo=UTC), "2026-07-01T00:00:00Z"),
        (datetime(2026, 7, 1, 2, 30, 5, tzinfo=timezone(timedelta(hours=2))), "2026-07-01T00:30:05Z"),
        (datetime(2026, 7, 1, 23, 59, 59, 1), "2026-07-01T23:59:59Z"),  # naive, as SQLite gives it: UTC
    ],
)
def test_a_date_time_is_sent_to_the_second_in_utc(value: datetime, sent: str) -> None:
    assert scalar("DateTime").serialize(value) == sent


@pytest.mark.parametrize(
    "text", ["2026-07-01T02:30:05+02:00", "2026-07-01T00:30:05Z", "2026-07-01T00:30:05.000Z"]
)
def test_a_date_time_is_taken_with_any_offset(text: str) -> None:
    assert scalar("DateTime").parse_value(text) == datetime(2026, 7, 1, 0, 30, 5, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2026-07-01T00:30:05", "2026-07-01", "yesterday", 1751329805])
def test_a_date_time_without_an_offset_is_refused(text: object) -> None:
    with pytest.raises(GraphQLError, match="RFC 3339"):
        scalar("DateTime").parse_value(text)


def test_a_date_is_year_month_day_both_ways() -> None:
    assert scalar("Date").serialize(date(2026, 7, 1)) == "2026-07-01"
    assert scalar("Date").parse_value("2026-07-01") == date(2026, 7, 1)
    with pytest.raises(GraphQLError, match="YYYY-MM-DD"):
        scalar("Date").parse_value("20260701")
