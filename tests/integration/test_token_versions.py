"""v1 tokens (off unless switched on) and the client-app allow-list, against the loopback Entra."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from auth.errors import Unauthenticated
from auth.keys import SigningKeys
from auth.principal import Identity
from auth.tokens import TokenRules, TokenValidator
from sandbox.entra import DEMO_CLIENT_APP_ID, new_tenant_id
from tests.support.entra import API_CLIENT_ID, OPERATOR_TENANT_ID, RunningEntra, token_rules

DAEMON_APP_ID = "5e1f0c2a-7b3d-4e8f-9a6b-2c4d6e8f0a1b"


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False) as client:
        yield client


def _validator(entra: RunningEntra, http: httpx.AsyncClient, **rules: Any) -> TokenValidator:
    configured = dataclasses.replace(token_rules(entra), **rules)
    return TokenValidator(configured, SigningKeys(configured.authority_host, http, min_refresh_interval=0))


def _v1_claims(tenant_id: str, **claims: Any) -> dict[str, Any]:
    return {
        "iss": f"https://sts.windows.net/{tenant_id}/",
        "ver": "1.0",
        "aud": f"api://{API_CLIENT_ID}",
        "appid": DEMO_CLIENT_APP_ID,
        "azp": None,
        **claims,
    }


async def _validate(validator: TokenValidator, token: str) -> Identity:
    return await validator.validate([f"Bearer {token}"])


@pytest.mark.parametrize(
    "audience", [f"api://{API_CLIENT_ID}", API_CLIENT_ID], ids=["app ID URI", "client id"]
)
async def test_a_v1_user_token_is_accepted_when_v1_acceptance_is_on(
    entra: RunningEntra, http: httpx.AsyncClient, audience: str
) -> None:
    tenant_id = new_tenant_id()
    token = entra.mint(
        tenant_id=tenant_id, object_id=new_tenant_id(), extra_claims=_v1_claims(tenant_id, aud=audience)
    )

    identity = await _validate(_validator(entra, http, accept_v1_tokens=True), token)

    assert identity.tenant_id == tenant_id
    assert identity.scopes == {"access_as_user"}
    assert identity.client_app_id == DEMO_CLIENT_APP_ID
    assert entra.entra.request_count("jwks", tenant_id) == 1  # the keys of the tenant's own discovery


async def test_a_v1_app_token_is_accepted_when_v1_acceptance_is_on(
    entra: RunningEntra, http: httpx.AsyncClient
) -> None:
    claims = _v1_claims(OPERATOR_TENANT_ID, appid=DAEMON_APP_ID)
    token = entra.mint(
        tenant_id=OPERATOR_TENANT_ID,
        object_id=new_tenant_id(),
        app=True,
        roles=("Incentives.Operator",),
        extra_claims=claims,
    )

    identity = await _validate(_validator(entra, http, accept_v1_tokens=True), token)

    assert identity.is_app
    assert identity.client_app_id == DAEMON_APP_ID


async def test_a_v1_token_is_refused_before_any_key_is_fetched_when_v1_acceptance_is_off(
    entra: RunningEntra, http: httpx.AsyncClient
) -> None:
    tenant_id = new_tenant_id()
    token = entra.mint(tenant_id=tenant_id, object_id=new_tenant_id(), extra_claims=_v1_claims(tenant_id))

    with pytest.raises(Unauthenticated, match=r"v2\.0"):
        await _validate(_validator(entra, http), token)
    assert entra.entra.request_count("discovery", tenant_id) == 0


V1_FAILURES = [
    pytest.param(
        lambda tid: _v1_claims(tid, iss=f"https://sts.windows.net/{new_tenant_id()}/"),
        "v1",
        id="another tenant's v1 issuer",
    ),
    pytest.param(lambda tid: _v1_claims(tid, ver="2.0"), "v1", id="v1 issuer with ver 2.0"),
    pytest.param(
        lambda tid: _v1_claims(tid, iss=f"https://sts.windows.net/{tid}"),
        "v1",
        id="v1 issuer without the slash",
    ),
    pytest.param(
        lambda tid: _v1_claims(tid, iss=f"https://sts.windows.net.evil/{tid}/"), "v1", id="look-alike v1 host"
    ),
    pytest.param(
        lambda tid: _v1_claims(tid, aud=f"api://{uuid.uuid4()}"), "Audience", id="v1 token for another API"
    ),
    pytest.param(
        lambda tid: _v1_claims(tid, aud=f"https://contoso.example/{API_CLIENT_ID}"),
        "Audience",
        id="v1 look-alike audience",
    ),
    pytest.param(lambda tid: _v1_claims(tid, nonce="n"), "ID token", id="v1 ID token"),
]


@pytest.mark.parametrize(("claims", "reason"), V1_FAILURES)
async def test_a_bad_v1_token_is_refused_even_when_v1_acceptance_is_on(
    entra: RunningEntra, http: httpx.AsyncClient, claims: Any, reason: str
) -> None:
    tenant_id = new_tenant_id()
    token = entra.mint(tenant_id=tenant_id, object_id=new_tenant_id(), extra_claims=claims(tenant_id))

    with pytest.raises(Unauthenticated, match=reason):
        await _validate(_validator(entra, http, accept_v1_tokens=True), token)


async def test_a_v2_token_still_needs_the_client_id_audience_when_v1_acceptance_is_on(
    entra: RunningEntra, http: httpx.AsyncClient
) -> None:
    token = entra.mint(
        tenant_id=new_tenant_id(), object_id=new_tenant_id(), audience=f"api://{API_CLIENT_ID}"
    )

    with pytest.raises(Unauthenticated, match="Audience"):
        await _validate(_validator(entra, http, accept_v1_tokens=True), token)


async def test_an_allow_list_admits_its_client_apps_and_refuses_the_rest(
    entra: RunningEntra, http: httpx.AsyncClient
) -> None:
    validator = _validator(entra, http, allowed_client_apps=frozenset({DAEMON_APP_ID}))
    allowed = entra.mint(
        tenant_id=new_tenant_id(), object_id=new_tenant_id(), client_app_id=DAEMON_APP_ID.upper()
    )
    other = entra.mint(tenant_id=new_tenant_id(), object_id=new_tenant_id(), client_app_id=str(uuid.uuid4()))
    missing = entra.mint(tenant_id=new_tenant_id(), object_id=new_tenant_id(), extra_claims={"azp": None})

    assert (await _validate(validator, allowed)).client_app_id == DAEMON_APP_ID.upper()
    for token in (other, missing):
        with pytest.raises(Unauthenticated, match="client application"):
            await _validate(validator, token)


def test_an_allow_list_must_hold_lower_case_guids() -> None:
    with pytest.raises(ValueError, match="allowed_client_apps"):
        TokenRules(
            authority_host="https://login.microsoftonline.com",
            client_id=API_CLIENT_ID,
            operator_tenant_id=OPERATOR_TENANT_ID,
            allowed_client_apps=frozenset({"my-daemon"}),
        )
