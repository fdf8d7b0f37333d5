"""Which document a request runs, decided once at the edge of /graphql (and of the websocket's
`subscribe`), from the request's `query`, `documentId` (GraphQL-over-HTTP, appendix A) and Apollo's
`extensions.persistedQuery.sha256Hash`; and whether its caller may run it
(`INCENTIVES_TRUSTED_DOCUMENTS`, CONTRACT 6.5).

    gate = Gate(mode, trusted, documents)
    named = gate.named(body)                   # Named(text, trusted), Refusal, or None (no document)
    refusal = gate.admits(named, principal)    # PERSISTED_QUERY_REQUIRED under enforce, else None

After that the request is an ordinary one with `named.text` as its `query`: the planned read's lane,
Strawberry's view and the admission see nothing else. A trusted text is the stored one, whose parse,
validation and plans were made at start-up.

- `documentId` alone: a trusted document, else PERSISTED_QUERY_NOT_FOUND.
- `persistedQuery` alone: a trusted document (by its id or its printed form's, Apollo's), else one
  registered through APQ in this process, else PERSISTED_QUERY_NOT_FOUND ("PersistedQueryNotFound":
  Apollo's link then sends the text with the hash).
- `query` (with either, which must then be its id): trusted when it is a trusted document's text;
  under off and log, a text sent with its hash is registered (a bounded map), never under enforce.
- Under enforce a partner caller (neither an operator nor an application) runs trusted documents
  only: anything else is refused before it is parsed, but a document that only introspects, which
  `INCENTIVES_INTROSPECTION` decides. Under log, untrusted documents are logged once per id.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, NamedTuple

from graphql import FieldNode, GraphQLError, OperationDefinitionNode

from api.graphql.limits import root_selections
from api.trusted.manifest import PREFIX, document_id, sha256_hex
from api.trusted.parsed import Documents
from api.trusted.prepared import ENFORCE, LOG, Trusted
from auth.principal import Principal

logger = logging.getLogger("incentives.trusted")

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
REQUIRED = "PERSISTED_QUERY_REQUIRED"
BAD_REQUEST = "BAD_REQUEST"
APQ_NOT_FOUND = "PersistedQueryNotFound"  # the message Apollo's persisted-query link looks for
MAX_REGISTERED = 1000  # texts registered through APQ, per process
MAX_LOGGED = 10_000  # ids of untrusted documents already logged, per process
_ID = re.compile(r"sha256:[0-9a-f]{64}")
_HASH = re.compile(r"[0-9a-f]{64}")
_INTROSPECTS = re.compile(r"__(?:schema|type)\b")
_INTROSPECTION = frozenset({"__schema", "__type", "__typename"})


class Refusal(NamedTuple):
    """A request refused at the edge: its status and its one error."""

    status: int
    message: str
    code: str


class Named(NamedTuple):
    """The document a request runs."""

    text: str
    trusted: bool


def _bad(message: str) -> Refusal:
    return Refusal(400, message, BAD_REQUEST)


class Gate:
    """The trusted documents, the APQ registrations and the mode: what a request may run."""

    def __init__(self, mode: str, trusted: Trusted, documents: Documents) -> None:
        self.mode = mode
        self.trusted = trusted
        self._documents = documents
        self._registered: OrderedDict[str, str] = OrderedDict()
        self._logged: OrderedDict[str, None] = OrderedDict()

    def named(self, fields: Mapping[str, Any]) -> Named | Refusal | None:
        """The document that a request's `query`, `documentId` and `extensions` name; None when they
        name none (Strawberry's view answers, as for any request without a query)."""
        query = fields.get("query")
        asked = fields.get("documentId")
        if asked is not None and not (isinstance(asked, str) and _ID.fullmatch(asked)):
            return _bad("`documentId` must be sha256:<64 lowercase hex digits>.")
        extensions = fields.get("extensions")
        hashed = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        if hashed is not None:
            apq = _apq_id(hashed)
            if isinstance(apq, Refusal):
                return apq
            if asked is not None and asked != apq:
                return _bad("`documentId` and `extensions.persistedQuery` name different documents.")
            asked = apq
        if isinstance(query, str):
            return self._sent(query, asked, registering=hashed is not None)
        if asked is None:
            return None
        found = self.trusted.by_id(asked)
        if found is not None:
            return Named(found.text, True)
        registered = self._registered.get(asked) if hashed is not None else None
        if registered is not None:
            return Named(registered, False)
        message = APQ_NOT_FOUND if hashed is not None else f"No trusted document has the id {asked}."
        return Refusal(200, message, NOT_FOUND)

    def _sent(self, query: str, asked: str | None, *, registering: bool) -> Named | Refusal:
        found = self.trusted.by_text(query)
        if asked is not None:
            own = document_id(query)
            if asked != own and (found is None or asked not in (found.id, found.printed_id)):
                return _bad(f"The id {asked} is not the query's ({own}).")
            if found is None and registering and self.mode != ENFORCE:
                self._registered[own] = query
                if len(self._registered) > MAX_REGISTERED:
                    self._registered.popitem(last=False)
        if found is not None:
            return Named(found.text, True)
        return Named(query, False)

    def admits(self, named: Named, principal: Principal, operation_name: object = None) -> Refusal | None:
        """PERSISTED_QUERY_REQUIRED for a partner caller's untrusted document under enforce; None
        when it may run (an untrusted one logged under log)."""
        if named.trusted or self.mode not in (LOG, ENFORCE):
            return None
        if self.mode == LOG:
            self._log(named.text, operation_name)
            return None
        partner = not principal.is_operator and not principal.identity.is_app
        if not partner or self._only_introspects(named.text):
            return None
        return Refusal(
            400,
            "Only trusted documents are served to partner applications: send the id of one "
            "(`documentId`) from the manifest of trusted documents.",
            REQUIRED,
        )

    def _log(self, text: str, operation_name: object) -> None:
        untrusted = PREFIX + sha256_hex(text)
        if untrusted in self._logged:
            return
        self._logged[untrusted] = None
        if len(self._logged) > MAX_LOGGED:
            self._logged.popitem(last=False)
        logger.info("served a document that is not trusted: %s (operation %s)", untrusted, operation_name)

    def _only_introspects(self, text: str) -> bool:
        """Whether every operation of the document selects only __schema, __type and __typename:
        parsed (and kept, for Strawberry's view) only when the text names one of them."""
        if not _INTROSPECTS.search(text):
            return False
        try:
            document = self._documents.known(text).document
        except GraphQLError:
            return False
        operations = [node for node in document.definitions if isinstance(node, OperationDefinitionNode)]
        return bool(operations) and all(
            isinstance(field, FieldNode) and field.name.value in _INTROSPECTION
            for operation in operations
            for field in root_selections(document, operation)
        )


def _apq_id(hashed: object) -> str | Refusal:
    """The id an `extensions.persistedQuery` names (Apollo's: version 1, a sha256 hash)."""
    if not isinstance(hashed, dict) or hashed.get("version") != 1:
        return _bad("`extensions.persistedQuery` must be {version: 1, sha256Hash: <64 lowercase hex>}.")
    value = hashed.get("sha256Hash")
    if not isinstance(value, str) or not _HASH.fullmatch(value):
        return _bad("`extensions.persistedQuery.sha256Hash` must be 64 lowercase hex digits.")
    return PREFIX + value
