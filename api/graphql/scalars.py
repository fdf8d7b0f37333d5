"""`Date` and `DateTime`, with the specifications code generators map to their own date types.

A `DateTime` is sent to the second, in UTC, with "Z" (2026-07-01T00:00:00Z); a naive value (SQLite
keeps no offset) is UTC. An input `DateTime` is any RFC 3339 date-time, with "Z" or an offset."""

from __future__ import annotations

from datetime import UTC, date, datetime

import strawberry
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.types.scalar import ScalarDefinition

DATE_SPECIFICATION = "https://scalars.graphql.org/andimarek/local-date"
DATE_TIME_SPECIFICATION = "https://scalars.graphql.org/andimarek/date-time"


def serialize_date_time(value: datetime) -> str:
    """RFC 3339 to the second in UTC: 2026-07-01T00:00:00Z (naive values are UTC)."""
    utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return utc.replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def serialize_date(value: date) -> str:
    """ISO 8601 calendar date: 2026-07-01."""
    return value.isoformat()


def _parse_date_time(value: object) -> datetime:
    if isinstance(value, str) and "T" in value.upper():
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if parsed.tzinfo is not None:
                return parsed.astimezone(UTC)
    raise StrawberryInputCoercionError(
        f'Value cannot represent a DateTime: "{value}". Expected RFC 3339 with an offset, e.g. '
        "2026-07-01T00:00:00Z."
    )


def _parse_date(value: object) -> date:
    if isinstance(value, str) and len(value) == len("2026-07-01"):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise StrawberryInputCoercionError(
        f'Value cannot represent a Date: "{value}". Expected YYYY-MM-DD, e.g. 2026-07-01.'
    )


DATE: ScalarDefinition = strawberry.scalar(
    name="Date",
    description="A calendar date without time or zone, ISO 8601 YYYY-MM-DD (e.g. 2026-07-01).",
    specified_by_url=DATE_SPECIFICATION,
    serialize=serialize_date,
    parse_value=_parse_date,
)
DATE_TIME: ScalarDefinition = strawberry.scalar(
    name="DateTime",
    description=(
        "An instant, RFC 3339. Sent to the second in UTC with Z (e.g. 2026-07-01T00:00:00Z); "
        "accepted with Z or any offset."
    ),
    specified_by_url=DATE_TIME_SPECIFICATION,
    serialize=serialize_date_time,
    parse_value=_parse_date_time,
)
SCALARS: dict[object, ScalarDefinition] = {date: DATE, datetime: DATE_TIME}
