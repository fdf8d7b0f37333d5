"""A manifest of trusted documents for tests, made from the operations the apps ship: the console's
operations.graphql whole (the console sends the whole file with an operation's name), and each
operation of clients/operations/ with the fragments it spreads (as graphql-codegen's client preset
persists them).

    path = manifest_file()             # written once per test process
    documents = shipped_documents()    # {id: text}
"""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    OperationDefinitionNode,
    Visitor,
    parse,
    print_ast,
    visit,
)

from api.trusted.manifest import document_id, dump

ROOT = Path(__file__).resolve().parents[2]
CONSOLE_OPERATIONS = ROOT / "api" / "static" / "console" / "operations.graphql"
CLIENT_OPERATIONS = ROOT / "clients" / "operations"


@cache
def shipped_documents() -> dict[str, str]:
    texts = [CONSOLE_OPERATIONS.read_text(encoding="utf-8"), *client_operations().values()]
    return {document_id(text): text for text in texts}


@cache
def client_operations() -> dict[str, str]:
    """Each operation of clients/operations/ by name, with the fragments it spreads, printed."""
    paths = sorted(CLIENT_OPERATIONS.glob("*.graphql"))
    document = parse("\n".join(path.read_text(encoding="utf-8") for path in paths))
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    found = {}
    for operation in document.definitions:
        if isinstance(operation, OperationDefinitionNode) and operation.name is not None:
            needed = _spread(operation, fragments)
            found[operation.name.value] = print_ast(DocumentNode(definitions=(operation, *needed)))
    return found


def _spread(
    operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]
) -> list[FragmentDefinitionNode]:
    names: list[str] = []
    pending: list[OperationDefinitionNode | FragmentDefinitionNode] = [operation]

    class Spreads(Visitor):
        def enter_fragment_spread(self, node: FragmentSpreadNode, *_: object) -> None:
            name = node.name.value
            if name not in names and name in fragments:
                names.append(name)
                pending.append(fragments[name])

    while pending:
        visit(pending.pop(), Spreads())
    return [fragments[name] for name in sorted(names)]


@cache
def manifest_file() -> Path:
    path = Path(tempfile.mkdtemp(prefix="trusted-")) / "trusted-documents.json"
    dump(shipped_documents(), path)
    return path
