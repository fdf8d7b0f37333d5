"""`incentives documents extract`: the trusted documents from what the apps ship.

- the console's `api/static/console/operations.graphql`, one document as served: the console
  names it by its id (in `config.json`) with an `operationName`;
- each operation of `clients/operations/*.graphql` with the fragments it spreads (transitively,
  sorted by name, after the operation), as graphql-js prints it (`manifest.printed`): the text
  ariadne-codegen's Python client sends and whose hash Apollo's persisted-query link sends;
- graphql-codegen's client preset output, `persisted-documents.json` (hex sha256 -> text), which
  the TypeScript client names by `sha256:<hash>`. It is generated, and git-ignored: run
  `npx graphql-codegen --config codegen.ts` in clients/ first, or name the file with
  `--persisted-documents`.

    documents = extracted(persisted_documents_path)     # {id: text}
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import orjson
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    Node,
    OperationDefinitionNode,
    Visitor,
    parse,
    visit,
)

from api.trusted.manifest import MANIFEST, PREFIX, ManifestError, document_id, print_graphql_js

ROOT = MANIFEST.parent
CONSOLE_OPERATIONS = ROOT / "api" / "static" / "console" / "operations.graphql"
CLIENT_OPERATIONS = ROOT / "clients" / "operations"
PERSISTED_DOCUMENTS = ROOT / "clients" / "generated" / "ts" / "persisted-documents.json"
CODEGEN = "cd clients && npx graphql-codegen --config codegen.ts"


def extracted(persisted_documents: Path = PERSISTED_DOCUMENTS) -> dict[str, str]:
    """Every shipped document by its id; ManifestError when the codegen output is missing or wrong."""
    texts = [console_document(), *operation_documents(CLIENT_OPERATIONS.glob("*.graphql"))]
    found = {document_id(text): text for text in texts}
    found.update(codegen_documents(persisted_documents))
    return found


def console_document() -> str:
    return CONSOLE_OPERATIONS.read_text(encoding="utf-8")


def operation_documents(paths: Iterable[Path]) -> list[str]:
    """One text per operation of these files (fragments shared across them), as graphql-js prints it."""
    sources = "\n".join(path.read_text(encoding="utf-8") for path in sorted(paths))
    document = parse(sources, no_location=True)
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return [_standalone(operation, fragments) for operation in operations]


def _standalone(operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDefinitionNode]) -> str:
    used = sorted(spread_fragments(operation, fragments))
    definitions = [operation, *(fragments[name] for name in used)]
    return print_graphql_js(DocumentNode(definitions=tuple(definitions)))


def spread_fragments(node: Node, fragments: Mapping[str, FragmentDefinitionNode]) -> set[str]:
    """The fragments `node` spreads, and those they spread, transitively."""
    found: set[str] = set()
    pending = [node]
    while pending:
        for name in _spread_names(pending.pop()):
            if name not in found and name in fragments:
                found.add(name)
                pending.append(fragments[name])
    return found


def _spread_names(node: Node) -> Iterator[str]:
    names: list[str] = []

    class Spreads(Visitor):
        def enter_fragment_spread(self, spread: FragmentSpreadNode, *_: object) -> None:
            names.append(spread.name.value)

    visit(node, Spreads())
    return iter(names)


def codegen_documents(path: Path = PERSISTED_DOCUMENTS) -> dict[str, str]:
    """The client preset's documents by our id: each of its sha256 hashes must be its text's."""
    try:
        hashed = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise ManifestError(f"{path} is missing: run `{CODEGEN}` (needs npm) first") from None
    except orjson.JSONDecodeError as error:
        raise ManifestError(f"{path} is not JSON: {error}") from error
    if not isinstance(hashed, dict) or not all(isinstance(text, str) for text in hashed.values()):
        raise ManifestError(f"{path} is not a JSON object of hashes to documents")
    found: dict[str, str] = {}
    for key, text in hashed.items():
        if PREFIX + key != document_id(text):
            raise ManifestError(f"{path}: {key} is not the sha256 of its document ({document_id(text)})")
        found[PREFIX + key] = text
    return found
