"""The trusted documents, prepared once at start-up: each parsed, validated (the schema's rules, the
shape limits, the token limit) and, for each query it holds, planned and costed; known afterwards by
its id, its printed form's id (Apollo's) and its text (stored or printed).

    trusted = prepare(load_manifest(mode, path), schema, documents, plans, rules)
    trusted.by_id("sha256:…")          # Prepared, or None
    trusted.by_text(query)             # likewise, for a document sent whole

A manifest that cannot be served raises `TrustedDocumentsError`: `serve` stops with its message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import strawberry
from graphql import GraphQLError, OperationDefinitionNode, OperationType

from api.graphql.limits import cost_of
from api.read.collect import Plan
from api.read.extension import Plans
from api.trusted import manifest
from api.trusted.parsed import Documents, Rules

OFF, LOG, ENFORCE = "off", "log", "enforce"


class TrustedDocumentsError(ValueError):
    """The manifest is missing (under log or enforce), not one, or holds a document we cannot serve."""


@dataclass(frozen=True, eq=False)
class Prepared:
    """A trusted document: its text as stored (what runs) and the ids it is known by."""

    text: str
    id: str
    printed_id: str


class Trusted:
    """The prepared documents, by id (their own and their printed form's) and by text."""

    def __init__(self, prepared: Iterable[tuple[Prepared, str]] = ()) -> None:
        self._by_id: dict[str, Prepared] = {}
        self._by_text: dict[str, Prepared] = {}
        for document, printed_text in prepared:
            self._by_id[document.id] = self._by_id[document.printed_id] = document
            self._by_text[document.text] = self._by_text[printed_text] = document

    def by_id(self, document_id: str) -> Prepared | None:
        return self._by_id.get(document_id)

    def by_text(self, text: str) -> Prepared | None:
        return self._by_text.get(text)

    def __len__(self) -> int:
        return len({id(document) for document in self._by_id.values()})


def load_manifest(mode: str, path: Path) -> dict[str, str]:
    """The manifest's documents by id; none when it is missing under `off`."""
    if not path.exists():
        if mode == OFF:
            return {}
        raise TrustedDocumentsError(
            f"{path} does not exist: INCENTIVES_TRUSTED_DOCUMENTS={mode} needs the manifest of trusted "
            "documents (INCENTIVES_TRUSTED_DOCUMENTS_FILE; `incentives documents extract` writes it)"
        )
    try:
        return manifest.load(path)
    except (OSError, manifest.ManifestError) as error:
        raise TrustedDocumentsError(str(error)) from None


def prepare(
    texts: Mapping[str, str],
    schema: strawberry.Schema,
    documents: Documents,
    plans: Plans,
    rules: Rules,
) -> Trusted:
    """Every document parsed and validated (kept in `documents`), and each query planned (in `plans`)."""
    graphql_schema = schema._schema
    prepared = []
    for document_id, text in texts.items():
        try:
            known = documents.pin(text, graphql_schema, rules)
        except GraphQLError as error:
            problem = error.message
            raise TrustedDocumentsError(f"trusted document {document_id} does not parse: {problem}") from None
        if known.errors:
            problem = known.errors[0].message
            raise TrustedDocumentsError(f"trusted document {document_id} does not validate: {problem}")
        definitions = known.document.definitions
        operations = [node for node in definitions if isinstance(node, OperationDefinitionNode)]
        for operation in operations:
            if operation.operation is not OperationType.QUERY:
                continue
            name = operation.name.value if operation.name else None
            plan = Plan.of(graphql_schema, known.document, operation)
            if not plan.cost_variables:  # its cost is known now, whatever the variables (`admit`
                # refuses it per request when over INCENTIVES_MAX_QUERY_COST, as any document)
                plan.costs[()] = cost_of(graphql_schema, known.document, operation, {})
            plans.pin((text, name), plan)
            if len(operations) == 1:  # a request need not name its only operation
                plans.pin((text, None), plan)
        printed_text = manifest.printed(text)
        found = Prepared(text, document_id, manifest.document_id(printed_text))
        prepared.append((found, printed_text))
    if prepared:
        plans.model(graphql_schema)  # the read model, derived now rather than at the first request
    return Trusted(prepared)


def manifest_path(configured: str) -> Path:
    """INCENTIVES_TRUSTED_DOCUMENTS_FILE, else the committed manifest."""
    return Path(configured) if configured else manifest.MANIFEST
