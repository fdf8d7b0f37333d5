"""How a type's class body declares its fields: one call per field, giving its source, its guard and
its description (`api.graphql.declared`); the Strawberry field comes back.

    partner_id: str = column("The location PartnerID.")
    tax_profile: TaxProfile | None = batch(current_tax_profile, "The current tax profile.",
                                           guard=Guard(Action.READ_TAX_PROFILE, location_scope))
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import strawberry

from api.graphql.declared import (
    DECLARED,
    Argument,
    Batch,
    Column,
    Computed,
    Declared,
    Fetch,
    FetchPages,
    Guard,
    Held,
    Joined,
    Paged,
    Resolved,
    Row,
    SqlTwin,
)
from api.graphql.resolvers import strawberry_field
from domain.access import Action


def column(
    description: str, *, name: str | None = None, guard: Guard | None = None, signed_in: bool = False
) -> Any:
    """Read off the row's attribute `name` (by default the field's Python name)."""
    return strawberry_field(Declared(Column(name), description, guard, signed_in=signed_in))


def computed(
    function: Callable[[Row], Any],
    description: str,
    *,
    guard: Guard | None = None,
    signed_in: bool = False,
    sql: SqlTwin | None = None,
) -> Any:
    """A function of the row alone."""
    source = Computed(lambda context: function, caller_free=True, sql=sql)
    return strawberry_field(Declared(source, description, guard, signed_in=signed_in))


def for_caller(
    make: Callable[[Any], Callable[[Row], Any]],
    description: str,
    *,
    guard: Guard | None = None,
    signed_in: bool = False,
    sql: SqlTwin | None = None,
    sql_needs: tuple[Action, ...] = (),
) -> Any:
    """A function of the row and of who asks, when: `make(context)(row)`, made once per request."""
    source = Computed(make, sql=sql, sql_needs=sql_needs)
    return strawberry_field(Declared(source, description, guard, signed_in=signed_in))


def joined(type_name: str | None, description: str, *, on: Any = None, prefix: str = "") -> Any:
    """An object of `type_name` whose row is read off this one's, its columns joined `on` this
    type's table as `<prefix><column>` (`type_name` None: this row itself)."""
    return strawberry_field(Declared(Joined(type_name, on, prefix), description))


def batch(
    fetch: Fetch,
    description: str,
    *,
    guard: Guard | None = None,
    shows: Action | None = None,
    signed_in: bool = False,
    arguments: Mapping[str, Argument] | None = None,
) -> Any:
    """`fetch(reading, rows, args)` for every object of a level at once."""
    declared = Declared(Batch(fetch), description, guard, shows, signed_in, arguments or {})
    return strawberry_field(declared)


def paged(
    pages: FetchPages,
    counts: Fetch,
    description: str,
    *,
    guard: Guard | None = None,
    shows: Action | None = None,
    signed_in: bool = False,
    descending: bool = False,
    arguments: Mapping[str, Argument] | None = None,
    json: Any = None,
) -> Any:
    """A connection (`first`/`after`/`last`/`before` and `arguments`) over each row's list."""
    source = Paged(pages, counts, descending, json)
    return strawberry_field(Declared(source, description, guard, shows, signed_in, arguments or {}))


def resolved(
    resolver: Callable[..., Any],
    description: str,
    *,
    requires: Action | None = None,
    shows: Action | None = None,
    signed_in: bool = False,
    kind: Callable[..., Any] = strawberry.field,
) -> Any:
    """A Strawberry resolver of its own (`kind`: strawberry.field, .mutation or .subscription).
    `requires` is checked by the domain's use case the resolver calls (and, for several mutations in
    one request, by admission); `shows`, by the resolver's own filter."""
    declared = Declared(Resolved(), description, None, shows or requires, signed_in)
    return kind(resolver=resolver, description=declared.full_description, metadata={DECLARED: declared})


def held(description: str, **options: Any) -> Any:
    """A value the object holds (a payload's): `default=` or `default_factory=` as strawberry.field."""
    declared = Declared(Held(), description)
    return strawberry.field(description=description, metadata={DECLARED: declared}, **options)
