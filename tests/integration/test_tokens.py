"""Token validation against the loopback Entra over real HTTP (CONTRACT section 2)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from auth.errors import SignInUnavailable, Unauthenticated
from auth.principal import GLOBAL_ADMINISTRATOR_WID
from auth.tokens import TokenRules, TokenValidator
from sandbox.entra import (
    DEMO_CLIENT_APP_ID,
    LoopbackEntra,
    LoopbackEntraServer,
    new_tenant_id,
    serve_loopback,
)
from tests.support.entra import API_CLIENT_ID, OPERATOR_TENANT_ID, RunningEntra, token_validator
from tests.support.ports import free_port


def bearer(token: str) -> list[str]:
    return [f"Bearer {token}"]


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    # trust_env off: a proxy from the environment must not sit between us and loopback.
    async with httpx.AsyncClient(trust_env=False) as client:
        yield client


@pytest.fixture
def validator(entra: RunningEntra, http: httpx.AsyncClient) -> TokenValidator:
    return token_validator(entra, http)


@pytest.fixture
def tenant_id() -> str:
    """A tenant no other test has used, so the issuer's request counts are this test's alone."""
    return new_tenant_id()


@pytest.fixture
def own_entra() -> Iterator[LoopbackEntra]:
    """A loopback Entra of this test's own, free to rotate keys."""
    loopback = LoopbackEntra()
    with LoopbackEntraServer(loopback):
        yield loopback


@dataclass(frozen=True)
class Minting:
    tenant_id: str
    base_url: str
    now: int


def _user_token(entra: RunningEntra, tenant_id: str, **options: Any) -> str:
    return entra.mint(tenant_id=tenant_id, object_id=new_tenant_id(), **options)


# --- accepted ---------------------------------------------------------------------------------


async def test_a_valid_user_token_is_accepted_as_that_user(
    entra: RunningEntra, validator: TokenValidator, tenant_id: str
) -> None:
    object_id = new_tenant_id()
    token = entra.mint(
        tenant_id=tenant_id,
        object_id=object_id,
        scopes=("User.Read", "access_as_user"),
        roles=("Partner.GlobalAdmin",),
        wids=(GLOBAL_ADMINISTRATOR_WID,),
        name="Adele Vance",
        email="adele@contoso.example",
    )

    identity = await validator.validate(bearer(token))

    assert (identity.tenant_id, identity.object_id) == (tenant_id, object_id)
    assert (identity.display_name, identity.email) == ("Adele Vance", "adele@contoso.example")
    assert identity.scopes == {"User.Read", "access_as_user"}
    assert identity.app_roles == {"Partner.GlobalAdmin"}
    assert identity.wids == {GLOBAL_ADMINISTRATOR_WID}
    assert identity.claims_global_admin
    assert not identity.is_app
    assert identity.client_app_id == DEMO_CLIENT_APP_ID
    assert identity.expires_at is not None
    assert identity.expires_at > datetime.now(UTC)


async def test_a_valid_app_only_token_is_accepted_as_an_app(
    entra: RunningEntra, validator: TokenValidator, tenant_id: str
) -> None:
    token = entra.mint(
        tenant_id=OPERATOR_TENANT_ID, object_id=tenant_id, app=True, roles=("Incentives.Operator",)
    )

    identity = await validator.validate(bearer(token))

    assert identity.is_app
    assert identity.app_roles == {"Incentives.Operator"}
    assert identity.scopes == frozenset()
    assert identity.tenant_id == OPERATOR_TENANT_ID


async def test_the_bearer_scheme_is_accepted_in_any_case(
    entra: RunningEntra, validator: TokenValidator, tenant_id: str
) -> None:
    identity = await validator.validate([f"bEaReR {_user_token(entra, tenant_id)}"])

    assert identity.tenant_id == tenant_id


@pytest.mark.parametrize(
    ("claims", "email"),
    [
        pytest.param({"preferred_username": "megan@contoso.example"}, "megan@contoso.example", id="upn"),
        pytest.param({"preferred_username": "+1 555 0100"}, None, id="phone number"),
        pytest.param(
            {"email": "a@b.example", "preferred_username": "x@y.example"}, "a@b.example", id="email"
        ),
    ],
)
async def test_an_email_is_taken_only_from_a_claim_that_looks_like_an_address(
    entra: RunningEntra, validator: TokenValidator, tenant_id: str, claims: dict[str, str], email: str | None
) -> None:
    identity = await validator.validate(bearer(_user_token(entra, tenant_id, extra_claims=claims)))

    assert identity.email == email


async def test_a_token_expired_within_the_clock_skew_is_accepted(
    entra: RunningEntra, validator: TokenValidator, tenant_id: str
) -> None:
    now = int(time.time())
    claims = {"iat": now - 3600, "nbf": now - 3600, "exp": now - 60}

    identity = await validator.validate(bearer(_user_token(entra, tenant_id, extra_claims=claims)))

    assert identity.tenant_id == tenant_id


# --- refused: the Authorization header ------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(lambda token: [], id="no header"),
        pytest.param(lambda token: [f"Bearer {token}", f"Bearer {token}"], id="two headers"),
        pytest.param(lambda token: [f"Basic {token}"], id="Basic scheme"),
        pytest.param(lambda token: [token], id="no scheme"),
        pytest.param(lambda token: ["Bearer "], id="no token"),
        pytest.param(lambda token: [f"Bearer {token} {token}"], id="two tokens"),
        pytest.param(lambda token: [f"Bearer {token}\u00e9"], id="non-ASCII token"),
    ],
)
async def test_an_authorization_header_not_carrying_exactly_one_bearer_token_is_refused(
    entra: RunningEntra,
    validator: TokenValidator,
    tenant_id: str,
    authorization: Callable[[str], list[str]],
) -> None:
    with pytest.raises(Unauthenticated):
        await validator.validate(authorization(_user_token(entra, tenant_id)))


async def test_a_token_over_16_kilobytes_is_refused_before_any_key_is_fetched(
    entra: RunningEntra, validator: TokenValidator, tenant_id: str
) -> None:
    token = _user_token(entra, tenant_id, extra_claims={"padding": "x" * 16384})

    with pytest.raises(Unauthenticated, match="too large"):
        await validator.validate(bearer(token))
    assert entra.entra.request_count("discovery", tenant_id) == 0


# --- refused: algorithm, signature and key ---------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _with_header_and_signature(token: str, header: dict[str, Any], sign: Callable[[bytes], bytes]) -> str:
    payload = token.split(".")[1]
    signing_input = f"{_b64(json.dumps(header).encode())}.{payload}"
    return f"{signing_input}.{_b64(sign(signing_input.encode()))}"


def _public_pem(entra: LoopbackEntra) -> bytes:
    return entra.current_key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


async def test_an_unsigned_token_is_refused(
    entra: RunningEntra, validator: TokenValidator, tenant_id: str
) -> None:
    header = {"alg": "none", "typ": "JWT", "kid": entra.entra.current_key.kid}
    token = _with_header_and_signature(_user_token(entra, tenant_id), header, lambda _: b"")

    with pytest.raises(Unauthenticated, match="alg"):
        await validator.validate(bearer(token))


async def test_a_token_hmac_signed_with_the_public_key_is_refused(
    entra: RunningEntra, validator: TokenValidator, tenant_id: str
) -> None:
    header = {"alg": "HS256", "typ": "JWT", "kid": entra.entra.current_key.kid}
    pem = _public_pem(entra.entra)
    token = _with_header_and_signature(
        _user_token(entra, tenant_id), header, lambda data: hmac.new(pem, data, hashlib.sha256).digest()
    )

    with pytest.raises(Unauthenticated, match="alg"):
        await validator.validate(bearer(token))


async def test_a_token_signed_rs512_is_refused(
    entra: RunningEntra, validator: TokenValidator, tenant_id: str
) -> None:
    token = _user_token(entra, tenant_id, algorithm="RS512")

    with pytest.raises(Unauthenticated, match="alg"):
        await validator.validate(bearer(token))


def _tampered_signature(token: str) -> str:
    head, payload, signature = token.split(".")
    middle = len(signature) // 2
    replacement = "A" if signature[middle] != "A" else "B"
    return f"{head}.{payload}.{signature[:middle]}{replacement}{signature[middle + 1 :]}"


def _tampered_payload(token: str) -> str:
    head, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["oid"] = new_tenant_id()
    return f"{head}.{_b64(json.dumps(claims).encode())}.{signature}"


@pytest.mark.parametrize("tamper", [_tampered_signature, _tampered_payload], ids=["signature", "claims"])
async def test_a_tampered_token_is_refused(
    entra: RunningEntra, validator: TokenValidator, tenant_id: str, tamper: Callable[[str], str]
) -> None:
    with pytest.raises(Unauthenticated, match="InvalidSignatureError"):
        await validator.validate(bearer(tamper(_user_token(entra, tenant_id))))


async def test_a_token_with_an_unknown_kid_is_refused_after_one_key_refresh(
    entra: RunningEntra, validator: TokenValidator, tenant_id: str
) -> None:
    await validator.validate(bearer(_user_token(entra, tenant_id)))
    token = _user_token(entra, tenant_id, headers={"kid": "no-such-key"})

    with pytest.raises(Unauthenticated, match="kid"):
        await validator.validate(bearer(token))
    assert entra.entra.request_count("jwks", tenant_id) == 2


@pytest.mark.parametrize("kid", ["../../keys", "x' OR '1'='1", "a/b", "", "k" * 129, None], ids=repr)
async def test_a_missing_or_malformed_kid_is_refused_without_fetching_keys(
    entra: RunningEntra, validator: TokenValidator, tenant_id: str, kid: object
) -> None:
    token = _user_token(entra, tenant_id, headers={"kid": kid})

    with pytest.raises(Unauthenticated, match="kid"):
        await validator.validate(bearer(token))
    assert entra.entra.request_count("discovery", tenant_id) == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("jku", "https://attacker.example/keys"),
        ("x5u", "https://attacker.example/cert.pem"),
        ("jwk", {"kty": "RSA", "n": "AQAB", "e": "AQAB"}),
        ("x5c", ["MIIB"]),
        ("crit", ["exp"]),
    ],
)
async def test_a_token_naming_its_own_key_or_critical_extensions_is_refused(
    entra: RunningEntra, validator: TokenValidator, tenant_id: str, name: str, value: object
) -> None:
    token = _user_token(entra, tenant_id, headers={name: value})

    with pytest.raises(Unauthenticated, match=name):
        await validator.validate(bearer(token))


async def test_a_token_signed_by_another_issuer_s_key_is_refused(
    entra: RunningEntra, validator: TokenValidator, tenant_id: str
) -> None:
    stranger = LoopbackEntra(issuer_base=entra.base_url)
    own_kid = _user_token(entra, tenant_id, key=stranger.current_key)
    borrowed_kid = _user_token(
        entra, tenant_id, key=stranger.current_key, headers={"kid": entra.entra.current_key.kid}
    )

    with pytest.raises(Unauthenticated, match="kid"):
        await validator.validate(bearer(own_kid))
    with pytest.raises(Unauthenticated, match="InvalidSignatureError"):
        await validator.validate(bearer(borrowed_kid))


# --- refused: claims ---------------------------------------------------------------------------


def _expired(m: Minting) -> dict[str, Any]:
    return {"extra_claims": {"iat": m.now - 3600, "nbf": m.now - 3600, "exp": m.now - 180}}


def _other_tenant_issuer(m: Minting) -> dict[str, Any]:
    return {"extra_claims": {"iss": f"{m.base_url}/{new_tenant_id()}/v2.0"}}


CLAIM_FAILURES = [
    pytest.param(_expired, "ExpiredSignature", id="expired 3 minutes ago, beyond the clock skew"),
    pytest.param(lambda m: {"extra_claims": {"nbf": m.now + 600}}, "nbf", id="not valid for 10 minutes"),
    pytest.param(lambda m: {"extra_claims": {"iat": m.now + 600}}, "iat", id="issued in the future"),
    *[
        pytest.param(lambda m, c=claim: {"extra_claims": {c: None}}, f'"{claim}"', id=f"no {claim}")
        for claim in ("exp", "nbf", "iat", "aud", "oid")
    ],
    pytest.param(lambda m: {"extra_claims": {"iss": None}}, "iss", id="no iss"),
    pytest.param(lambda m: {"extra_claims": {"tid": None}}, "tid", id="no tid"),
    pytest.param(lambda m: {"extra_claims": {"tid": "contoso.onmicrosoft.com"}}, "tid", id="tid not a GUID"),
    pytest.param(lambda m: {"extra_claims": {"oid": "adele"}}, "oid", id="oid not a GUID"),
    pytest.param(lambda m: {"audience": new_tenant_id()}, "Audience", id="aud of another API"),
    pytest.param(lambda m: {"audience": f"api://{API_CLIENT_ID}"}, "Audience", id="aud as an app ID URI"),
    pytest.param(lambda m: {"extra_claims": {"aud": [API_CLIENT_ID]}}, "Audience", id="aud as a list"),
    pytest.param(_other_tenant_issuer, "iss", id="iss of another tenant"),
    pytest.param(
        lambda m: {"extra_claims": {"iss": f"{m.base_url}/{m.tenant_id}/"}}, "iss", id="iss without v2.0"
    ),
    pytest.param(
        lambda m: {"extra_claims": {"iss": f"https://sts.windows.net/{m.tenant_id}/", "ver": "1.0"}},
        "v2.0",
        id="v1 token",
    ),
    pytest.param(lambda m: {"extra_claims": {"ver": "1.0"}}, "v2.0", id="ver 1.0 with a v2 issuer"),
    pytest.param(lambda m: {"extra_claims": {"nonce": "n-0S6_WzA2Mj"}}, "ID token", id="ID token (nonce)"),
    pytest.param(
        lambda m: {"extra_claims": {"at_hash": "77QmUPtjPfzWtF2AnpK9RQ"}}, "ID token", id="ID token (at_hash)"
    ),
    pytest.param(lambda m: {"scopes": ("User.Read",)}, "scope", id="user token without the scope"),
    pytest.param(
        lambda m: {"scopes": ("access_as_users",)}, "scope", id="user token with a look-alike scope"
    ),
    pytest.param(
        lambda m: {"app": True, "extra_claims": {"idtyp": None}}, "scope", id="app token without idtyp"
    ),
    pytest.param(
        lambda m: {"app": True, "extra_claims": {"scp": "x"}}, "scopes", id="app token with a scope"
    ),
    pytest.param(
        lambda m: {"extra_claims": {"roles": "Incentives.Operator"}}, "roles", id="roles not a list"
    ),
    pytest.param(lambda m: {"extra_claims": {"name": 42}}, "name", id="name not a string"),
]


@pytest.mark.parametrize(("forge", "reason"), CLAIM_FAILURES)
async def test_a_token_failing_a_claim_check_is_refused(
    entra: RunningEntra,
    validator: TokenValidator,
    tenant_id: str,
    forge: Callable[[Minting], dict[str, Any]],
    reason: str,
) -> None:
    options = forge(Minting(tenant_id=tenant_id, base_url=entra.base_url, now=int(time.time())))
    token = _user_token(entra, tenant_id, **options)

    with pytest.raises(Unauthenticated, match=reason):
        await validator.validate(bearer(token))


# --- the key cache ----------------------------------------------------------------------------


async def test_a_rotated_key_is_picked_up_after_exactly_one_extra_jwks_fetch(
    own_entra: LoopbackEntra, http: httpx.AsyncClient, tenant_id: str
) -> None:
    validator = token_validator(own_entra, http)
    old_token = own_entra.mint(tenant_id=tenant_id, object_id=new_tenant_id(), audience=API_CLIENT_ID)
    await validator.validate(bearer(old_token))

    own_entra.rotate_key()
    new_token = own_entra.mint(tenant_id=tenant_id, object_id=new_tenant_id(), audience=API_CLIENT_ID)
    await validator.validate(bearer(new_token))
    await validator.validate(bearer(old_token))

    assert own_entra.request_count("jwks", tenant_id) == 2
    assert own_entra.request_count("discovery", tenant_id) == 1


async def test_a_retired_key_is_refused_once_the_keys_are_refreshed(
    own_entra: LoopbackEntra, http: httpx.AsyncClient, tenant_id: str
) -> None:
    validator = token_validator(own_entra, http)
    old_token = own_entra.mint(tenant_id=tenant_id, object_id=new_tenant_id(), audience=API_CLIENT_ID)
    await validator.validate(bearer(old_token))

    own_entra.rotate_key(retire_old=True)
    new_token = own_entra.mint(tenant_id=tenant_id, object_id=new_tenant_id(), audience=API_CLIENT_ID)
    await validator.validate(bearer(new_token))

    with pytest.raises(Unauthenticated, match="kid"):
        await validator.validate(bearer(old_token))


async def test_twenty_concurrent_cold_validations_fetch_the_keys_once(
    entra: RunningEntra, validator: TokenValidator, tenant_id: str
) -> None:
    tokens = [_user_token(entra, tenant_id) for _ in range(20)]

    identities = await asyncio.gather(*(validator.validate(bearer(token)) for token in tokens))

    assert len({identity.object_id for identity in identities}) == 20
    assert entra.entra.request_count("discovery", tenant_id) == 1
    assert entra.entra.request_count("jwks", tenant_id) == 1


async def test_unknown_kids_refresh_the_keys_at_most_once_per_interval(
    entra: RunningEntra, http: httpx.AsyncClient, tenant_id: str
) -> None:
    validator = token_validator(entra, http, min_refresh_interval=300)
    await validator.validate(bearer(_user_token(entra, tenant_id)))

    for kid in ("unknown-1", "unknown-2", "unknown-3"):
        with pytest.raises(Unauthenticated):
            await validator.validate(bearer(_user_token(entra, tenant_id, headers={"kid": kid})))

    assert entra.entra.request_count("jwks", tenant_id) == 1


async def test_an_unreachable_authority_refuses_the_token_without_crashing(
    http: httpx.AsyncClient, tenant_id: str
) -> None:
    nowhere = LoopbackEntra(issuer_base=f"http://127.0.0.1:{free_port()}")
    validator = token_validator(nowhere, http)
    token = nowhere.mint(tenant_id=tenant_id, object_id=new_tenant_id(), audience=API_CLIENT_ID)

    with pytest.raises(SignInUnavailable, match="ConnectError"):
        await validator.validate(bearer(token))


# --- the rules themselves ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "authority_host",
    [
        "http://login.microsoftonline.com",
        "http://10.0.0.7:8080",
        "https://login.microsoftonline.com/",
        "https://login.microsoftonline.com/common",
        "login.microsoftonline.com",
        "ftp://127.0.0.1",
    ],
)
def test_token_rules_refuse_an_authority_host_that_is_not_https_or_not_bare(authority_host: str) -> None:
    with pytest.raises(ValueError, match="authority_host"):
        TokenRules(
            authority_host=authority_host, client_id=API_CLIENT_ID, operator_tenant_id=OPERATOR_TENANT_ID
        )


@pytest.mark.parametrize(
    "authority_host",
    [
        "https://login.microsoftonline.com",
        "http://127.0.0.1:8123",
        "http://127.9.9.9",
        "http://localhost:9000",
        "http://[::1]:9000",
    ],
)
def test_token_rules_accept_https_and_plain_http_on_loopback(authority_host: str) -> None:
    rules = TokenRules(
        authority_host=authority_host, client_id=API_CLIENT_ID, operator_tenant_id=OPERATOR_TENANT_ID
    )

    assert rules.issuer_for(OPERATOR_TENANT_ID) == f"{authority_host}/{OPERATOR_TENANT_ID}/v2.0"


def test_token_rules_allow_at_most_two_minutes_of_clock_skew() -> None:
    with pytest.raises(ValueError, match="clock_skew"):
        TokenRules(
            authority_host="https://login.microsoftonline.com",
            client_id=API_CLIENT_ID,
            operator_tenant_id=OPERATOR_TENANT_ID,
            clock_skew_seconds=300,
        )


def test_the_loopback_issuer_refuses_to_serve_on_a_non_loopback_host() -> None:
    with pytest.raises(ValueError, match="loopback"):
        LoopbackEntraServer(LoopbackEntra(), host="0.0.0.0")  # noqa: S104 - the point of the test


def test_a_minted_token_is_a_v2_access_token_shaped_like_entra_s(entra: RunningEntra, tenant_id: str) -> None:
    claims = jwt.decode(_user_token(entra, tenant_id), options={"verify_signature": False})

    assert claims["iss"] == f"{entra.base_url}/{tenant_id}/v2.0"
    assert claims["ver"] == "2.0"
    assert claims["sub"] != claims["oid"]
    assert claims["scp"] == "access_as_user"


async def test_the_loopback_issuer_can_also_serve_in_the_running_event_loop(http: httpx.AsyncClient) -> None:
    loopback = LoopbackEntra()
    server, base_url = await serve_loopback(loopback)
    try:
        tenant_id = new_tenant_id()
        response = await http.get(f"{base_url}/{tenant_id}/v2.0/.well-known/openid-configuration")
        validator = token_validator(loopback, http)
        token = loopback.mint(tenant_id=tenant_id, object_id=new_tenant_id(), audience=API_CLIENT_ID)
        identity = await validator.validate(bearer(token))
    finally:
        await server.stop()

    assert response.json()["issuer"] == f"{base_url}/{tenant_id}/v2.0"
    assert identity.tenant_id == tenant_id
    with pytest.raises(httpx.ConnectError):
        await http.get(f"{base_url}/{tenant_id}/discovery/v2.0/keys")
