"""The trusted documents the tests serve: the committed manifest (trusted-documents.json, which
tests/clients/test_trusted_documents.py keeps equal to what `incentives documents extract` makes
from the shipped operations), and those operations by name, as the manifest stores them.

    path = manifest_file()             # the committed manifest
    operation = client_operations()["Dashboard"]
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from graphql import OperationDefinitionNode, parse

from api.trusted.extract import CLIENT_OPERATIONS, CONSOLE_OPERATIONS, operation_documents
from api.trusted.manifest import MANIFEST

__all__ = ["CONSOLE_OPERATIONS", "client_operations", "manifest_file"]


@cache
def client_operations() -> dict[str, str]:
    """Each operation of clients/operations/ by name, with the fragments it spreads, as stored."""
    found = {}
    for text in operation_documents(CLIENT_OPERATIONS.glob("*.graphql")):
        operation = next(d for d in parse(text).definitions if isinstance(d, OperationDefinitionNode))
        assert operation.name is not None
        found[operation.name.value] = text
    return found


def manifest_file() -> Path:
    return MANIFEST
