"""The loopback Entra's authorization code flow with PKCE, as a single-page app signs in with
MSAL.js: the sign-in page, the code sent to the registered redirect URI, its cross-origin
redemption with the verifier, and every way a request can be refused (over real HTTP)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from auth.principal import GLOBAL_ADMINISTRATOR_WID
from sandbox.entra import LoopbackEntra, LoopbackEntraServer, new_tenant_id

SPA_ID = "7c1f0d2e-4a3b-4c5d-8e9f-0a1b2c3d4e5f"
API_ID = "5e1f0c2a-7b3d-4c8e-9a6f-0b1c2d3e4f5a"
ORIGIN = "http://127.0.0.1:5173"
REDIRECT = f"{ORIGIN}/console/"
SCOPE = f"api://{API_ID}/access_as_user openid profile offline_access"


@dataclass
class SignIn:
    base: str
    tenant: str
    user_key: str
    http: httpx.Client

    def authorize_url(self) -> str:
        return f"{self.base}/{self.tenant}/oauth2/v2.0/authorize"

    def token_url(self) -> str:
        return f"{self.base}/{self.tenant}/oauth2/v2.0/token"


@pytest.fixture
def sign_in() -> Iterator[SignIn]:
    entra = LoopbackEntra()
    tenant = new_tenant_id()
    entra.register_application(SPA_ID, public_client=True, redirect_uris=[REDIRECT])
    user = entra.add_directory_user(
        tenant, "0f1e2d3c-4b5a-4968-8776-655443322110", "gale@contoso.example", "Gale Admin",
        wids=[GLOBAL_ADMINISTRATOR_WID], app_roles=["Incentives.Operator"],
    )  # fmt: skip
    with LoopbackEntraServer(entra) as server, httpx.Client(timeout=10) as http:
        yield SignIn(server.base_url, tenant, f"{user.tenant_id}/{user.object_id}", http)


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def _request(challenge: str, **overrides: str) -> dict[str, str]:
    return {
        "client_id": SPA_ID,
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "scope": SCOPE,
        "state": "state-1",
        "nonce": "nonce-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "response_mode": "fragment",
        **overrides,
    }


def _signed_in(sign_in: SignIn, fields: dict[str, str]) -> dict[str, list[str]]:
    """Pick the user on the page; what the redirect carries back to the app (its fragment)."""
    response = sign_in.http.post(sign_in.authorize_url(), data={**fields, "user": sign_in.user_key})
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    return parse_qs(location.fragment)


def _redeem(sign_in: SignIn, code: str, verifier: str, origin: str | None = ORIGIN) -> httpx.Response:
    headers = {} if origin is None else {"Origin": origin}
    form = {
        "client_id": SPA_ID,
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
        "scope": SCOPE,
    }
    return sign_in.http.post(sign_in.token_url(), data=form, headers=headers)


def _claims(sign_in: SignIn, token: str, audience: str) -> dict[str, Any]:
    keys = jwt.PyJWKClient(f"{sign_in.base}/{sign_in.tenant}/discovery/v2.0/keys")
    key = keys.get_signing_key_from_jwt(token)
    claims: dict[str, Any] = jwt.decode(token, key.key, algorithms=["RS256"], audience=audience)
    return claims


def test_the_page_lists_the_tenants_users_and_carries_the_request_along(sign_in: SignIn) -> None:
    _, challenge = _pkce()

    page = sign_in.http.get(sign_in.authorize_url(), params=_request(challenge))

    assert page.status_code == 200
    assert "Gale Admin" in page.text
    assert f'value="{challenge}"' in page.text
    assert "<label>Sign in as <select" in page.text


def test_a_spa_signs_in_with_a_code_and_its_verifier_and_gets_tokens_for_the_api(sign_in: SignIn) -> None:
    verifier, challenge = _pkce()

    sent = _signed_in(sign_in, _request(challenge))
    response = _redeem(sign_in, sent["code"][0], verifier)

    assert sent["state"] == ["state-1"]
    assert "client_info" in sent
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == ORIGIN
    tokens = response.json()
    access = _claims(sign_in, tokens["access_token"], API_ID)
    assert (access["tid"], access["scp"], access["azp"]) == (sign_in.tenant, "access_as_user", SPA_ID)
    assert access["wids"] == [GLOBAL_ADMINISTRATOR_WID]
    assert access["roles"] == ["Incentives.Operator"]  # the API's app roles assigned to the user
    identity = _claims(sign_in, tokens["id_token"], SPA_ID)
    assert identity["nonce"] == "nonce-1"
    assert identity["preferred_username"] == "gale@contoso.example"
    # The refresh token is redeemed cross-origin too, and only so.
    refresh = {"client_id": SPA_ID, "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    refreshed = sign_in.http.post(sign_in.token_url(), data=refresh, headers={"Origin": ORIGIN})
    assert refreshed.status_code == 200
    again = {**refresh, "refresh_token": refreshed.json()["refresh_token"]}
    assert sign_in.http.post(sign_in.token_url(), data=again).json()["error"] == "invalid_grant"


def test_a_code_is_redeemed_once_with_the_verifier_of_its_challenge(sign_in: SignIn) -> None:
    verifier, challenge = _pkce()
    code = _signed_in(sign_in, _request(challenge))["code"][0]
    other_code = _signed_in(sign_in, _request(challenge))["code"][0]

    wrong = _redeem(sign_in, code, _pkce()[0])
    no_origin = _redeem(sign_in, other_code, verifier, origin=None)

    assert wrong.json()["error"] == "invalid_grant"
    assert "Code_Verifier" in wrong.json()["error_description"]
    assert _redeem(sign_in, code, verifier).json()["error"] == "invalid_grant"  # spent by the try
    assert no_origin.json()["error"] == "invalid_request"
    assert "cross-origin" in no_origin.json()["error_description"]


def test_an_unregistered_redirect_uri_gets_a_page_and_nothing_is_sent_anywhere(sign_in: SignIn) -> None:
    _, challenge = _pkce()
    fields = _request(challenge, redirect_uri="https://evil.example/steal")

    page = sign_in.http.get(sign_in.authorize_url(), params=fields)
    posted = sign_in.http.post(sign_in.authorize_url(), data={**fields, "user": sign_in.user_key})

    for response in (page, posted):
        assert response.status_code == 400
        assert "location" not in response.headers
        assert "AADSTS50011" in response.text


def test_a_request_without_pkce_is_sent_back_with_an_error(sign_in: SignIn) -> None:
    fields = {k: v for k, v in _request("x").items() if not k.startswith("code_challenge")}

    response = sign_in.http.get(sign_in.authorize_url(), params=fields)

    assert response.status_code == 302
    sent = parse_qs(urlsplit(response.headers["location"]).fragment)
    assert sent["error"] == ["invalid_request"]
    assert "AADSTS9002325" in sent["error_description"][0]
    assert sent["state"] == ["state-1"]


def test_the_token_endpoint_answers_the_spas_origin_only(sign_in: SignIn) -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}

    allowed = sign_in.http.options(sign_in.token_url(), headers={"Origin": ORIGIN, **preflight})
    other = sign_in.http.options(sign_in.token_url(), headers={"Origin": "https://evil.example", **preflight})
    discovery = sign_in.http.get(f"{sign_in.base}/{sign_in.tenant}/v2.0/.well-known/openid-configuration")

    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert "access-control-allow-origin" not in other.headers
    assert discovery.headers["access-control-allow-origin"] == "*"
    assert discovery.json()["authorization_endpoint"] == sign_in.authorize_url()


def test_a_user_of_another_tenant_cannot_be_picked(sign_in: SignIn) -> None:
    _, challenge = _pkce()
    stranger = f"{new_tenant_id()}/0f1e2d3c-4b5a-4968-8776-655443322111"

    response = sign_in.http.post(sign_in.authorize_url(), data={**_request(challenge), "user": stranger})

    assert response.status_code == 400
    assert "location" not in response.headers
