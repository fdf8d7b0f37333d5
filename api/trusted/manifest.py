"""The manifest of trusted documents, `trusted-documents.json` at the repository's root: a JSON
object mapping each document's id, `sha256:<64 lowercase hex>` of its text as stored, to that text.

    documents = load()                      # {id: text}, every id checked against its text
    document_id(text)                       # 'sha256:…' (GraphQL-over-HTTP, appendix A)
    printed_id(text)                        # the id of the text as graphql-js prints it (Apollo's)

`incentives documents extract` writes it (`dump`), the server loads it at start-up.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from sys import maxsize
from typing import Any

import orjson
from graphql import Node, parse
from graphql.language.printer import join, print_doc_ast_reducer, render
from graphql.language.reducer import reduce

MANIFEST = Path(__file__).resolve().parents[2] / "trusted-documents.json"
PREFIX = "sha256:"


class ManifestError(ValueError):
    """A manifest that cannot be trusted: not a JSON object of ids to texts, or an id not its text's."""


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def document_id(text: str) -> str:
    """The id of a document's text, exactly as stored or sent."""
    return PREFIX + sha256_hex(text)


def printed(text: str) -> str:
    """The text as graphql-js's `print` gives it: what Apollo hashes (and ariadne-codegen sends)."""
    return print_graphql_js(parse(text, no_location=True))


# graphql-core 3.3 prints lists and input objects as graphql-js 17 will (`{ a: $a }`, long ones
# wrapped); graphql-js 16, which Apollo Client and graphql-core 3.2 (ariadne-codegen's) use, prints
# them on one line with no inner spaces (`{a: $a}`). Everything else of an operation prints alike.
_GRAPHQL_JS_16 = {
    **print_doc_ast_reducer,
    "list_value": lambda node: join(("[", join(node.values, ", "), "]")),
    "object_value": lambda node: join(("{", join(node.fields, ", "), "}")),
}


def print_graphql_js(node: Node) -> str:
    """`print` of graphql-js 16: `print_ast` but for lists and input objects."""
    printed_: Any = reduce(node, _GRAPHQL_JS_16)
    return render(printed_, maxsize)


def printed_id(text: str) -> str:
    return document_id(printed(text))


def load(path: Path = MANIFEST) -> dict[str, str]:
    """The manifest's documents by id; ManifestError when an id is not its text's."""
    try:
        documents = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as error:
        raise ManifestError(f"{path} is not JSON: {error}") from error
    if not isinstance(documents, dict):
        raise ManifestError(f"{path} is not a JSON object of ids to documents")
    for key, text in documents.items():
        if not isinstance(text, str):
            raise ManifestError(f"{path}: {key} is not mapped to a document's text")
        if key != document_id(text):
            raise ManifestError(f"{path}: {key} is not the id of its document ({document_id(text)})")
    return documents


def dump(documents: Mapping[str, str], path: Path = MANIFEST) -> None:
    """Writes the manifest: ids in order, two-space indents, a final newline (diffs stay small)."""
    for key, text in documents.items():
        if key != document_id(text):
            raise ManifestError(f"{key} is not the id of its document ({document_id(text)})")
    ordered = dict(sorted(documents.items()))
    path.write_bytes(orjson.dumps(ordered, option=orjson.OPT_INDENT_2) + b"\n")
