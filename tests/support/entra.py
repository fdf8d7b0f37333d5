"""The loopback Entra for tests: the session-scoped `entra` fixture and the names others import.

    def test_something(entra: RunningEntra) -> None:
        token = entra.mint(tenant_id=PARTNER_TENANT_ID, object_id=new_tenant_id())  # aud = API_CLIENT_ID
        rules = token_rules(entra)          # TokenRules pointing at it

MSAL tests keep MSAL's real authority and route its requests here with `routed_msal_http(entra)`
(and Graph's with `routed_async_http(entra)`).

Tests that rotate keys or count fetches should serve their own `LoopbackEntra` (`served_entra`),
so the shared one stays predictable for every other test.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

import httpx
import pytest

from adapters.msal_http import MsalHttpClient
from auth.keys import SigningKeys
from auth.tokens import TokenRules, TokenValidator
from sandbox import routing as loopback_routing
from sandbox.entra import DEMO_CLIENT_APP_ID, LoopbackEntra, LoopbackEntraServer, LoopbackKey

API_CLIENT_ID = "3f2b7c1e-8a4d-4e6f-9b0a-5c1d2e3f4a5b"
OPERATOR_TENANT_ID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
PARTNER_TENANT_ID = "c0ffee00-1234-4abc-8def-0123456789ab"


class HasBaseUrl(Protocol):
    @property
    def base_url(self) -> str: ...


@dataclass(frozen=True)
class RunningEntra:
    """A served `LoopbackEntra`; `mint` defaults the audience to `API_CLIENT_ID`."""

    entra: LoopbackEntra

    @property
    def base_url(self) -> str:
        return self.entra.base_url

    def mint(
        self,
        *,
        tenant_id: str,
        object_id: str,
        audience: str = API_CLIENT_ID,
        scopes: Sequence[str] = ("access_as_user",),
        roles: Sequence[str] = (),
        wids: Sequence[str] = (),
        name: str | None = None,
        email: str | None = None,
        lifetime: timedelta = timedelta(hours=1),
        app: bool = False,
        client_app_id: str = DEMO_CLIENT_APP_ID,
        extra_claims: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
        key: LoopbackKey | None = None,
        algorithm: str = "RS256",
    ) -> str:
        return self.entra.mint(
            tenant_id=tenant_id,
            object_id=object_id,
            audience=audience,
            scopes=scopes,
            roles=roles,
            wids=wids,
            name=name,
            email=email,
            lifetime=lifetime,
            app=app,
            client_app_id=client_app_id,
            extra_claims=extra_claims,
            headers=headers,
            key=key,
            algorithm=algorithm,
        )


def token_rules(entra: HasBaseUrl) -> TokenRules:
    """The rules the API applies in tests: tokens from `entra`, for `API_CLIENT_ID`."""
    return TokenRules(
        authority_host=entra.base_url, client_id=API_CLIENT_ID, operator_tenant_id=OPERATOR_TENANT_ID
    )


def token_validator(
    entra: HasBaseUrl, http: httpx.AsyncClient, *, min_refresh_interval: float = 0
) -> TokenValidator:
    """A validator for `entra`'s tokens with its own cold key cache (no refresh throttling by default)."""
    rules = token_rules(entra)
    keys = SigningKeys(rules.authority_host, http, min_refresh_interval=min_refresh_interval)
    return TokenValidator(rules, keys)


@contextmanager
def served_entra(loopback: LoopbackEntra) -> Iterator[str]:
    """Serve `loopback` on 127.0.0.1 at an ephemeral port for the block (the sandbox's runner, as the
    demo serves it); yields its base URL."""
    with LoopbackEntraServer(loopback) as server:
        yield server.base_url


@pytest.fixture(scope="session")
def entra() -> Iterator[RunningEntra]:
    """The loopback Entra, served on 127.0.0.1 at an ephemeral port for the whole session."""
    loopback = LoopbackEntra()
    with served_entra(loopback):
        yield RunningEntra(entra=loopback)


def routed_msal_http(entra: HasBaseUrl) -> MsalHttpClient:
    """An MSAL HTTP client that sends `login.microsoftonline.com` to `entra`, MSAL none the wiser."""
    return loopback_routing.routed_msal_http(entra.base_url)


def routed_async_http(entra: HasBaseUrl) -> httpx.AsyncClient:
    """An async client that sends `graph.microsoft.com` (and the sign-in host) to `entra`."""
    return loopback_routing.routed_async_http(entra.base_url)
