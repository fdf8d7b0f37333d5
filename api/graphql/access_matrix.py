"""Who may read each field and run each mutation: the access policy printed over the whole schema.

    python -m api.graphql.access_matrix > docs/access-matrix.md

Every row is a field of the schema; its cells are `Principal.can` for a caller of each role, as the
API decides it (the table in `domain.access`). A test keeps `docs/access-matrix.md` equal to this
output, so a change of access shows up in review as a change of that file.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Iterator, Mapping

from graphql import GraphQLObjectType
from strawberry.types.field import StrawberryField

from api.graphql.declared import TYPES, declaration
from api.graphql.schema import build_schema
from auth.principal import GLOBAL_ADMINISTRATOR_WID, OPERATOR_APP_ROLE, Identity, Principal
from domain.access import POLICY, Action, Grant, Role, Scope

ORGANIZATION, LOCATION, PROGRAM = 1, 10, 100
ELSEWHERE = Scope(ORGANIZATION, 11, 101)  # a location and program of the organization nobody is assigned
COVERED = Scope(ORGANIZATION, LOCATION, PROGRAM)
ROOTS = ("Query", "Mutation", "Subscription")
STRUCTURAL = ("Connection", "Edge", "Payload")
LEGEND = """# Access matrix

Who may read each field and run each mutation, by role. Generated from the access policy
(`domain/access.py`) by `python -m api.graphql.access_matrix`; a test fails when this file differs.

- **yes**: wherever it applies (an operator in every organization; everyone else in their own).
- **covered**: only for the locations (and programs) the caller's assignment covers.
- **own**: only the caller's own.
- **—**: refused: `null` with a `FORBIDDEN` error, `null` from `node`, or left out of lists.

Columns: Global, Account, Incentives admins and Incentives users of an organization; a member of
its tenant with no role; an operator; and a Global admin of a tenant that has no organization yet.
A field that requires nothing of its own requires what its type requires.
"""


def callers() -> dict[str, Principal]:
    """One caller per column, each with its own user id, the Incentives roles covering `COVERED`."""

    def person(
        user_id: int,
        *,
        wids: frozenset[str] = frozenset(),
        org_roles: frozenset[Role] = frozenset(),
        grants: tuple[Grant, ...] = (),
    ) -> Principal:
        identity = Identity(tenant_id="t", object_id=f"user-{user_id}", wids=wids)
        return Principal(identity, ORGANIZATION, user_id, org_roles=org_roles, grants=grants)

    def assigned(role: Role) -> tuple[Grant, ...]:
        return (Grant(role, frozenset({LOCATION}), frozenset({PROGRAM})),)

    global_admin = frozenset({GLOBAL_ADMINISTRATOR_WID})
    return {
        "GLOBAL_ADMIN": person(1, wids=global_admin),
        "ACCOUNT_ADMIN": person(2, org_roles=frozenset({Role.ACCOUNT_ADMIN})),
        "INCENTIVES_ADMIN": person(3, grants=assigned(Role.INCENTIVES_ADMIN)),
        "INCENTIVES_USER": person(4, grants=assigned(Role.INCENTIVES_USER)),
        "member": person(5),
        "operator": Principal(
            Identity(tenant_id="operators", object_id="user-6", app_roles=frozenset({OPERATOR_APP_ROLE})),
            user_id=6,
            is_operator=True,
        ),
        "no organization": Principal(
            Identity(tenant_id="new", object_id="user-7", wids=global_admin), user_id=7
        ),
    }


def cell(caller: Principal, action: Action | None) -> str:
    if action is None or caller.can(action, ELSEWHERE):
        return "yes"
    if caller.can(action, COVERED):
        return "covered"
    if caller.can(action, Scope(ORGANIZATION, LOCATION, PROGRAM, user_id=caller.user_id)):
        return "own"
    return "—"


def matrix() -> str:
    """The whole table, as Markdown."""
    columns = callers()
    lines = [
        LEGEND,
        "| field | requires | " + " | ".join(columns) + " |",
        "|---|---|" + "---|" * len(columns),
    ]
    for name, action in rows():
        cells = " | ".join(cell(caller, action) for caller in columns.values())
        lines.append(f"| `{name}` | {_name(action)} | {cells} |")
    return "\n".join(lines) + "\n"


def rows() -> Iterator[tuple[str, Action | None]]:
    """(Type.field, the action it requires: its own, else its type's), roots first, then A to Z.

    Raises `LookupError` for a root field or an object type that does not say who may use it.
    """
    types = {
        name: kind
        for name, kind in build_schema()._schema.type_map.items()
        if isinstance(kind, GraphQLObjectType) and _listed(name)
    }
    ordered = [*ROOTS, *sorted(name for name in types if name not in ROOTS)]
    for type_name in ordered:
        kind = types.get(type_name)
        if kind is None:
            continue
        default = _type_access(type_name, kind)
        for field_name, field in kind.fields.items():
            action = _field_access(field.extensions, default)
            if isinstance(action, Unset):
                raise LookupError(f"{type_name}.{field_name} does not say who may use it")
            yield f"{type_name}.{field_name}", action


class Unset(enum.Enum):
    ACCESS = "unset"


def _listed(name: str) -> bool:
    """Object types with fields of their own (connections, edges and payloads are what returns them)."""
    if name.startswith("__"):
        return False
    return name not in ("PageInfo", "UserError") and not name.endswith(STRUCTURAL)


def _type_access(name: str, kind: GraphQLObjectType) -> Action | Unset | None:
    if name in ROOTS:
        return Unset.ACCESS
    if name not in TYPES:
        raise LookupError(f"the type {name} does not say who may read it (declare it with object_type)")
    guard = TYPES[name].guard
    return None if guard is None else guard.action


def _field_access(
    extensions: Mapping[str, object] | None, default: Action | Unset | None
) -> Action | Unset | None:
    field = (extensions or {}).get("strawberry-definition")
    declared = declaration(field) if isinstance(field, StrawberryField) else None
    access = False if declared is None else declared.access
    return default if access is False else access  # type: ignore[return-value]


def _name(action: Action | None) -> str:
    if action is None:
        return "signed in"
    assert action in POLICY
    return action.name


if __name__ == "__main__":
    sys.stdout.write(matrix())
