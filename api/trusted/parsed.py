"""Documents parsed and validated once, by their text: the trusted ones for the life of the process
(`pin`, at start-up), the others the least recently used first out. One Strawberry extension,
`KnownDocuments`, in place of Strawberry's ParserCache and ValidationCache.

    documents = Documents()
    Schema(..., extensions=[..., lambda: KnownDocuments(documents), ...])
    documents.pin(text, schema, rules)        # parsed and validated now; never again
    documents.parses, documents.validations   # how many times each was done (tests count them)

A document is validated with the rules a request names (the schema's and our shape rule, the same
for every request): the errors are kept with the document and the rules they were found with.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse
from graphql.validation import ASTValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from api.kept import Kept

MAX_DOCUMENTS = 1000  # documents kept that are not trusted (as Strawberry's caches were)
Rules = tuple[type[ASTValidationRule], ...]


@dataclass(eq=False, slots=True)
class Known:
    """A parsed document; its validation errors once validated (with the rules used)."""

    document: DocumentNode
    rules: Rules | None = None
    errors: list[GraphQLError] | None = None


class Documents:
    """Parsed documents by text, with their validation."""

    def __init__(self, capacity: int = MAX_DOCUMENTS, max_tokens: int | None = None) -> None:
        self._kept: Kept[str, Known] = Kept(capacity)
        self.max_tokens = max_tokens
        self.parses = 0
        self.validations = 0

    def known(self, text: str) -> Known:
        """The document of `text`, parsed now unless known; GraphQLError when it does not parse."""
        found = self._kept.get(text)
        if found is None:
            found = Known(self._parse(text))
            self._kept.put(text, found)
        return found

    def is_pinned(self, text: str) -> bool:
        return self._kept.is_pinned(text)

    def errors(self, known: Known, schema: GraphQLSchema, rules: Rules) -> list[GraphQLError]:
        """The document's validation errors under `rules` (validated once per rules)."""
        if known.errors is None or known.rules != rules:
            self.validations += 1
            known.errors, known.rules = validate_document(schema, known.document, rules), rules
        return known.errors

    def pin(self, text: str, schema: GraphQLSchema, rules: Rules) -> Known:
        """Parse and validate `text` now and keep it for good (a trusted document)."""
        known = self._kept.get(text) or Known(self._parse(text))
        self.errors(known, schema, rules)
        self._kept.pin(text, known)
        return known

    def _parse(self, text: str) -> DocumentNode:
        self.parses += 1
        return parse(text, max_tokens=self.max_tokens)


class KnownDocuments(SchemaExtension):
    """Parsing and validation through `Documents` (Strawberry's ParserCache and ValidationCache)."""

    def __init__(self, documents: Documents) -> None:
        super().__init__()
        self._documents = documents
        self._known: Known | None = None

    def on_parse(self) -> Iterator[None]:
        execution = self.execution_context
        if execution.graphql_document is None and execution.query:
            try:
                self._known = self._documents.known(execution.query)
            except GraphQLError:
                # Strawberry parses it again and tells the client why it does not parse.
                if self._documents.max_tokens is not None:
                    execution.parse_options["max_tokens"] = self._documents.max_tokens
            else:
                execution.graphql_document = self._known.document
        yield

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        known = self._known
        if known is not None and execution.graphql_document is known.document:
            schema = execution.schema._schema
            execution.pre_execution_errors = self._documents.errors(known, schema, execution.validation_rules)
        yield
