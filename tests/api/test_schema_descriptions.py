"""Every type, field, argument, input field and enum value of the schema is described (code generators
copy descriptions into the clients they write), and the custom scalars name their specifications."""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    is_introspection_type,
    is_specified_scalar_type,
)

from api.graphql.scalars import DATE_SPECIFICATION, DATE_TIME_SPECIFICATION
from api.graphql.schema import build_schema


def _own_types(schema: GraphQLSchema) -> list[GraphQLNamedType]:
    return [
        named
        for name, named in sorted(schema.type_map.items())
        if not is_introspection_type(named) and not is_specified_scalar_type(named)
    ]


def _items(schema: GraphQLSchema) -> list[tuple[str, str | None]]:
    """(coordinate, description) of every describable item of the schema."""
    items: list[tuple[str, str | None]] = []
    for named in _own_types(schema):
        items.append((named.name, named.description))
        if isinstance(named, GraphQLEnumType):
            items += [(f"{named.name}.{key}", value.description) for key, value in named.values.items()]
        elif isinstance(named, GraphQLInputObjectType):
            items += [(f"{named.name}.{key}", value.description) for key, value in named.fields.items()]
        elif isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            for key, field in named.fields.items():
                items.append((f"{named.name}.{key}", field.description))
                items += [
                    (f"{named.name}.{key}({arg})", argument.description)
                    for arg, argument in field.args.items()
                ]
    return items


def test_every_item_of_the_schema_is_described() -> None:
    items = _items(build_schema()._schema)
    missing = [coordinate for coordinate, description in items if not (description or "").strip()]
    coverage = 100 * (len(items) - len(missing)) / len(items)
    print(f"descriptions: {len(items) - len(missing)}/{len(items)} ({coverage:.1f}%)")
    assert not missing, f"{coverage:.1f}% described; missing: " + ", ".join(missing)


def test_date_and_datetime_name_their_specifications() -> None:
    schema = build_schema()._schema
    for name, url in (("Date", DATE_SPECIFICATION), ("DateTime", DATE_TIME_SPECIFICATION)):
        scalar = schema.type_map[name]
        assert isinstance(scalar, GraphQLScalarType)
        assert scalar.specified_by_url == url, name
