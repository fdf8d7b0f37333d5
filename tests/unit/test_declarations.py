"""Each field of the schema is declared once, and each declaration is a field of the schema: the
committed `schema.graphql` and the declarations (`api.graphql.declared`) cover each other."""

from __future__ import annotations

from pathlib import Path

from graphql import GraphQLObjectType
from graphql import build_schema as build_sdl

from api.graphql.declared import DECLARATIONS, Declared, declaration
from api.graphql.schema import build_schema

SDL = Path(__file__).resolve().parents[2] / "schema.graphql"
LIVE = build_schema()._schema


def _object_fields(schema: object) -> dict[tuple[str, str], object]:
    types = schema.type_map.values()  # type: ignore[attr-defined]
    return {
        (type_.name, name): field
        for type_ in types
        if isinstance(type_, GraphQLObjectType) and not type_.name.startswith("__")
        for name, field in type_.fields.items()
    }


def _declared(field: object) -> Declared | None:
    return declaration((getattr(field, "extensions", None) or {}).get("strawberry-definition"))


def test_every_field_of_schema_graphql_has_a_declaration() -> None:
    committed = build_sdl(SDL.read_text(encoding="utf-8"))
    live = _object_fields(LIVE)

    gaps = [
        f"{type_name}.{name}"
        for type_name, name in _object_fields(committed)
        if (type_name, name) not in live or _declared(live[(type_name, name)]) is None
    ]

    assert gaps == [], f"fields of schema.graphql with no declaration (api.graphql.fields): {gaps}"


def test_every_declaration_is_a_field_of_the_schema() -> None:
    in_schema = {
        id(found) for field in _object_fields(LIVE).values() if (found := _declared(field)) is not None
    }

    strays = [declared.description for declared in DECLARATIONS if id(declared) not in in_schema]

    assert strays == [], f"declarations of no field of the schema: {strays}"
