"""The HTTP client MSAL talks through: an `httpx.Client` behind MSAL's requests-like interface.

MSAL calls `get(url, params=, headers=)` and `post(url, params=, data=, headers=)` and reads
`status_code`, `text`, `headers` and `raise_for_status()` from the result, which `httpx.Response`
provides. Owning the client gives every MSAL request a timeout, and lets tests route
`login.microsoftonline.com` to the loopback issuer while MSAL keeps its real authority.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

DEFAULT_TIMEOUT = httpx.Timeout(10.0)

_FormData = Mapping[str, Any] | str | bytes | None


class MsalHttpClient:
    """`msal.ClientApplication(..., http_client=MsalHttpClient())`; closes the httpx client it owns."""

    def __init__(self, client: httpx.Client | None = None) -> None:
        # trust_env off: MSAL's default session would honour proxy variables, but a token request
        # for a production tenant should not be silently detoured; set a proxy explicitly if needed.
        self._client = client or httpx.Client(timeout=DEFAULT_TIMEOUT, trust_env=False)

    def get(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        **ignored: Any,
    ) -> httpx.Response:
        return self._client.get(url, params=_clean(params), headers=_clean(headers))

    def post(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        data: _FormData = None,
        headers: Mapping[str, str] | None = None,
        **ignored: Any,
    ) -> httpx.Response:
        # MSAL posts forms as dicts (sometimes a pre-encoded string); httpx wants `content` for those.
        if isinstance(data, str | bytes):
            return self._client.post(url, params=_clean(params), content=data, headers=_clean(headers))
        return self._client.post(url, params=_clean(params), data=_form(data), headers=_clean(headers))

    def close(self) -> None:
        self._client.close()


def _form(data: Mapping[str, Any] | None) -> dict[str, Any] | None:
    # MSAL hands over its client assertion as bytes; requests would send those as text, httpx
    # would send "b'...'" instead, so decode them here.
    cleaned = _clean(data)
    if cleaned is None:
        return None
    return {name: v.decode() if isinstance(v, bytes) else v for name, v in cleaned.items()}


def _clean(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Drop None values (MSAL sends e.g. `client-request-id: None`), which httpx would refuse."""
    if values is None:
        return None
    return {name: value for name, value in values.items() if value is not None}
