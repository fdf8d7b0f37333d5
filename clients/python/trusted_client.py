"""The base class of the generated Python client (ariadne-codegen's `base_client_name`, copied into
its package): each operation named by its trusted document id, never sent as text.

ariadne-codegen writes each operation into the generated code as graphql-js prints it, followed
by the fragments it uses sorted by name, indented to sit in a method; its id is the sha256 of that
text dedented, which `incentives documents extract` stores in trusted-documents.json (the same text
it makes of each operation of clients/operations).
"""

from __future__ import annotations

import hashlib
import textwrap
from typing import Any

import httpx
from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from .base_model import UNSET


class GraphQLClientError(Exception):
    """The API's answer had no data, or errors (`errors`, as the API sent them), or was not JSON."""

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


def document_id(query: str) -> str:
    """`sha256:<hex>` of the operation's text as ariadne-codegen printed it, before indenting it."""
    text = textwrap.dedent(query).strip()
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


class TrustedDocumentsClient:
    """What the generated `IncentivesClient` needs of its base: `execute` (by id) and `get_data`."""

    def __init__(
        self,
        url: str = "",
        headers: dict[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.url = url
        self.headers = headers
        self.http_client = http_client or httpx.AsyncClient(headers=headers)

    async def __aenter__(self) -> TrustedDocumentsClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.http_client.aclose()

    async def execute(
        self,
        query: str,
        operation_name: str | None = None,
        variables: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        body = {
            "documentId": document_id(query),
            "operationName": operation_name,
            "variables": {
                name: _jsonable(value) for name, value in (variables or {}).items() if value is not UNSET
            },
        }
        return await self.http_client.post(url=self.url, json=to_jsonable_python(body), **kwargs)

    def get_data(self, response: httpx.Response) -> dict[str, Any]:
        """The answer's data; GraphQLClientError when it has errors or no data."""
        try:
            answer = response.json()
        except ValueError as error:
            raise GraphQLClientError(f"HTTP {response.status_code}: not JSON") from error
        errors = answer.get("errors") if isinstance(answer, dict) else None
        if errors or not isinstance(answer, dict) or not isinstance(answer.get("data"), dict):
            messages = "; ".join(str(error.get("message")) for error in errors or ())
            raise GraphQLClientError(messages or f"HTTP {response.status_code} without data", errors)
        data: dict[str, Any] = answer["data"]
        return data


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(by_alias=True, exclude_unset=True)
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    return value
