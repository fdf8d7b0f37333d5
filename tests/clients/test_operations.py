"""The SPA's operations kept in clients/operations: valid against schema.graphql, named, and the
dashboard the same as the benchmark's (graphql-core of the main venv, no npm needed)."""

from __future__ import annotations

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    OperationDefinitionNode,
    build_schema,
    parse,
    print_ast,
    validate,
)

from bench.api.operations import DASHBOARD
from tests.clients.paths import OPERATIONS, SCHEMA, operations_sdl

# The pages' flows the typed clients are generated for (README, "Typed clients").
FLOWS = {
    "dashboard": {"Dashboard"},
    "home page invitations": {"HomeInvitations", "DismissInvitation"},
    "enroll": {"EnrollmentForm", "SetTaxProfile", "CreatePaymentProfile", "Enroll", "CompleteEnrollment"},
    "assign a role by sign-in name": {"PickDirectoryUser", "AssignRoleBySignInName", "RoleAssignments"},
}


def kept() -> DocumentNode:
    return parse(operations_sdl())


def operations(document: DocumentNode) -> dict[str, OperationDefinitionNode]:
    found = [node for node in document.definitions if isinstance(node, OperationDefinitionNode)]
    assert all(node.name is not None for node in found), "every kept operation is named"
    return {node.name.value: node for node in found if node.name is not None}


def test_every_kept_operation_and_fragment_is_valid_against_schema_graphql() -> None:
    errors = validate(build_schema(SCHEMA.read_text(encoding="utf-8")), kept())
    assert [error.message for error in errors] == []


def test_the_kept_operations_cover_each_flow_of_the_spa() -> None:
    names = set(operations(kept()))
    for flow, needed in FLOWS.items():
        assert needed <= names, f"{flow}: missing {sorted(needed - names)}"


def test_each_operation_file_parses_on_its_own_and_fragments_are_shared() -> None:
    files = sorted(OPERATIONS.glob("*.graphql"))
    assert len(files) >= 4
    fragments = [
        node.name.value
        for path in files
        for node in parse(path.read_text(encoding="utf-8")).definitions
        if isinstance(node, FragmentDefinitionNode)
    ]
    assert len(fragments) == len(set(fragments)), "each fragment is defined once"
    assert "UserErrorFields" in fragments


def test_the_dashboard_is_the_benchmarks_dashboard() -> None:
    ours = operations(kept())["Dashboard"]
    (benchmark,) = operations(parse(DASHBOARD)).values()
    assert print_ast(ours) == print_ast(benchmark)
