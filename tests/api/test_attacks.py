"""Token rules tried by attack, over real HTTP: every forged or misused token gets 401 and runs nothing.

Each attack carries a mutation that would write if the token were accepted (a would-be Global admin
registering an organization, a would-be operator creating a program), and each test then checks
that the server sent no SQL at all and that no table was written. The attacks share one server
(`attacked`): none of them may write, and each checks that none did, so none can set the stage for
the next.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from api.app import UNAUTHENTICATED_BODY
from auth.principal import GLOBAL_ADMIN_APP_ROLE, GLOBAL_ADMINISTRATOR_WID, OPERATOR_APP_ROLE
from sandbox.entra import DEMO_CLIENT_APP_ID, LoopbackEntra, LoopbackKey, new_tenant_id
from tests.support import personas
from tests.support.configured_api import NOTHING_WRITTEN, configured_api, written_rows
from tests.support.databases import copy_sqlite_database
from tests.support.entra import API_CLIENT_ID, OPERATOR_TENANT_ID, RunningEntra
from tests.support.flaky_entra import served_flaky_entra
from tests.support.in_process import InProcessApi
from tests.support.server import ApiServer, served_api

Headers = list[tuple[str, str]]
REGISTER = """mutation { registerOrganization(input: {legalName: "Forged Ltd", country: "DE"}) {
  organization { id } userErrors { code } } }"""
CREATE_PROGRAM = """mutation { createProgram(input: {code: "FORGED", name: "Forged", criteria: []}) {
  program { id } userErrors { code } } }"""
ATTACKER_KEY = LoopbackKey.generate()


@dataclass(frozen=True)
class Target:
    """Whom the forger pretends to be, and what they try to do."""

    tenant_id: str
    mutation: str
    wids: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()


TARGETS: dict[str, Callable[[], Target]] = {
    "would-be Global admin registers an organization": lambda: Target(
        tenant_id=new_tenant_id(), mutation=REGISTER, wids=(GLOBAL_ADMINISTRATOR_WID,)
    ),
    "would-be operator creates a program": lambda: Target(
        tenant_id=OPERATOR_TENANT_ID, mutation=CREATE_PROGRAM, roles=(OPERATOR_APP_ROLE,)
    ),
}


@dataclass(frozen=True)
class Forger:
    """Mints tokens for the target, and knows a bait tenant the server must never be sent to."""

    entra: RunningEntra
    target: Target
    bait_tenant_id: str
    now: int

    @property
    def tenant_id(self) -> str:
        return self.target.tenant_id

    @property
    def base_url(self) -> str:
        return self.entra.base_url

    def mint(self, **options: Any) -> str:
        minted: dict[str, Any] = {
            "tenant_id": self.tenant_id,
            "object_id": new_tenant_id(),
            "wids": self.target.wids,
            "roles": self.target.roles,
            **options,
        }
        return self.entra.mint(**minted)

    def bearer(self, **options: Any) -> Headers:
        return [("Authorization", f"Bearer {self.mint(**options)}")]

    def claims(self, **claims: Any) -> Headers:
        """A token whose claims are overridden (None removes one)."""
        return self.bearer(extra_claims=claims)

    def resigned(self, header: Mapping[str, Any], sign: Callable[[bytes], bytes]) -> Headers:
        """A good token's payload under `header`, signed by `sign`."""
        payload = self.mint().split(".")[1]
        signing_input = f"{_b64(json.dumps(dict(header)).encode())}.{payload}"
        return [("Authorization", f"Bearer {signing_input}.{_b64(sign(signing_input.encode()))}")]

    @property
    def kid(self) -> str:
        return self.entra.entra.current_key.kid


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _public_pem(f: Forger) -> bytes:
    return f.entra.entra.current_key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _hs256_with_public_key(f: Forger) -> Headers:
    pem = _public_pem(f)
    header = {"alg": "HS256", "typ": "JWT", "kid": f.kid}
    return f.resigned(header, lambda data: hmac.new(pem, data, hashlib.sha256).digest())


def _unsigned(alg: str) -> Callable[[Forger], Headers]:
    return lambda f: f.resigned({"alg": alg, "typ": "JWT", "kid": f.kid}, lambda _: b"")


def _edited_token(f: Forger, edit: Callable[[str, str, str], str]) -> Headers:
    head, payload, signature = f.mint().split(".")
    return [("Authorization", f"Bearer {edit(head, payload, signature)}")]


def _flip_signature(head: str, payload: str, signature: str) -> str:
    middle = len(signature) // 2
    replacement = "A" if signature[middle] != "A" else "B"
    return f"{head}.{payload}.{signature[:middle]}{replacement}{signature[middle + 1 :]}"


def _elevate_claims(head: str, payload: str, signature: str) -> str:
    claims = json.loads(_unb64(payload))
    claims["roles"] = [OPERATOR_APP_ROLE, GLOBAL_ADMIN_APP_ROLE]
    return f"{head}.{_b64(json.dumps(claims).encode())}.{signature}"


def _bait_jwks(f: Forger) -> str:
    return f"{f.base_url}/{f.bait_tenant_id}/discovery/v2.0/keys"


def _bait_discovery(f: Forger) -> str:
    return f"{f.base_url}/{f.bait_tenant_id}/v2.0/.well-known/openid-configuration"


def _self_signed(f: Forger, **headers: Any) -> Headers:
    """Signed with the attacker's own key, whose whereabouts the header tries to supply."""
    return f.bearer(key=ATTACKER_KEY, headers=headers)


def _expired(f: Forger) -> Headers:
    return f.claims(iat=f.now - 3600, nbf=f.now - 3600, exp=f.now - 180)


def _v1(f: Forger) -> Headers:
    return f.claims(
        iss=f"https://sts.windows.net/{f.tenant_id}/",
        ver="1.0",
        aud=f"api://{API_CLIENT_ID}",
        appid=DEMO_CLIENT_APP_ID,
        azp=None,
    )


def _two_headers(f: Forger) -> Headers:
    return [*f.bearer(), *f.bearer()]


def _scheme(scheme: str) -> Callable[[Forger], Headers]:
    return lambda f: [("Authorization", f"{scheme} {f.mint()}")]


def _strangers_key(*, borrow_kid: bool) -> Callable[[Forger], Headers]:
    def forge(f: Forger) -> Headers:
        # A real issuer elsewhere (same shape, its own keys) signs a token naming our issuer.
        stranger = LoopbackEntra(issuer_base=f.base_url)
        headers = {"kid": f.kid} if borrow_kid else {}
        return f.bearer(key=stranger.current_key, headers=headers)

    return forge


def _without(claim: str) -> Callable[[Forger], Headers]:
    return lambda f: f.claims(**{claim: None})


def _iss(template: str) -> Callable[[Forger], Headers]:
    return lambda f: f.claims(iss=template.format(base=f.base_url, tid=f.tenant_id, other=new_tenant_id()))


ATTACKS: dict[str, Callable[[Forger], Headers]] = {
    "alg none": _unsigned("none"),
    "alg None": _unsigned("None"),
    "HS256 signed with the public key": _hs256_with_public_key,
    "RS512": lambda f: f.bearer(algorithm="RS512"),
    "PS256": lambda f: f.bearer(algorithm="PS256"),
    "signature stripped (empty)": lambda f: _edited_token(f, lambda h, p, s: f"{h}.{p}."),
    "signature stripped (two parts)": lambda f: _edited_token(f, lambda h, p, s: f"{h}.{p}"),
    "signature tampered": lambda f: _edited_token(f, _flip_signature),
    "claims tampered to add roles": lambda f: _edited_token(f, _elevate_claims),
    "unknown kid": lambda f: f.bearer(headers={"kid": "unknown-kid-0"}),
    "kid with a path": lambda f: f.bearer(headers={"kid": "../../../etc/passwd"}),
    "kid with SQL": lambda f: f.bearer(headers={"kid": "x' OR '1'='1"}),
    "kid with a URL": lambda f: f.bearer(headers={"kid": "https://attacker.example/k"}),
    "no kid": lambda f: f.bearer(headers={"kid": None}),
    "jku header": lambda f: _self_signed(f, jku=_bait_jwks(f), kid=ATTACKER_KEY.kid),
    "x5u header": lambda f: _self_signed(f, x5u=_bait_discovery(f), kid=ATTACKER_KEY.kid),
    "embedded jwk header": lambda f: _self_signed(f, jwk=ATTACKER_KEY.public_jwk(), kid=ATTACKER_KEY.kid),
    "embedded x5c header": lambda f: _self_signed(f, x5c=["MIIBIjANBgkq"], kid=ATTACKER_KEY.kid),
    "crit header": lambda f: f.bearer(headers={"crit": ["urn:example:ignore"], "urn:example:ignore": True}),
    "expired beyond the clock skew": _expired,
    "nbf in the future": lambda f: f.claims(nbf=f.now + 600),
    **{f"missing {name}": _without(name) for name in ("exp", "nbf", "iat", "tid", "oid")},
    "tid not a GUID": lambda f: f.claims(tid="contoso.onmicrosoft.com"),
    "oid not a GUID": lambda f: f.claims(oid="adele"),
    "aud of another API": lambda f: f.bearer(audience=new_tenant_id()),
    "aud as a list": lambda f: f.claims(aud=[API_CLIENT_ID]),
    "aud as the app ID URI in a v2 token": lambda f: f.bearer(audience=f"api://{API_CLIENT_ID}"),
    "iss of another tenant with this tid": _iss("{base}/{other}/v2.0"),
    "iss with a suffix": _iss("{base}/{tid}/v2.0.evil"),
    "iss with a trailing slash": _iss("{base}/{tid}/v2.0/"),
    "iss with a query": _iss("{base}/{tid}/v2.0?x=1"),
    "iss of a look-alike host": _iss("{base}evil/{tid}/v2.0"),
    "iss of another authority": _iss("https://login.microsoftonline.com/{tid}/v2.0"),
    "v1 token (sts.windows.net)": _v1,
    "ID token (nonce)": lambda f: f.claims(nonce="n-0S6_WzA2Mj"),
    "ID token (at_hash)": lambda f: f.claims(at_hash="77QmUPtjPfzWtF2AnpK9RQ"),
    "user token without the scope": lambda f: f.bearer(scopes=("User.Read",)),
    "user token with no scope at all": lambda f: f.bearer(scopes=()),
    "app-only token without idtyp=app": lambda f: f.bearer(app=True, extra_claims={"idtyp": None}),
    "token over 16 KB": lambda f: f.claims(padding="x" * 16384),
    "two Authorization headers": _two_headers,
    "Basic scheme": _scheme("Basic"),
    "Token scheme": _scheme("Token"),
    "DPoP scheme": _scheme("DPoP"),
    "another issuer's key under its own kid": _strangers_key(borrow_kid=False),
    "another issuer's key under our kid": _strangers_key(borrow_kid=True),
}


@pytest.fixture(scope="module")
def attacked(
    entra: RunningEntra, sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiServer]:
    """One served API (as `api_server`) for every attack of the module, on a database of its own."""
    database_url = copy_sqlite_database(sqlite_template, tmp_path_factory.mktemp("attacked") / "attacked.db")
    with served_api(entra, database_url) as server:
        yield server


@pytest.mark.parametrize("target_name", list(TARGETS))
@pytest.mark.parametrize("attack_name", list(ATTACKS))
def test_a_forged_or_misused_token_gets_401_and_nothing_is_executed(
    attacked: ApiServer, entra: RunningEntra, attack_name: str, target_name: str
) -> None:
    target = TARGETS[target_name]()
    forger = Forger(entra=entra, target=target, bait_tenant_id=new_tenant_id(), now=int(time.time()))
    headers = ATTACKS[attack_name](forger)

    with attacked.statements() as log:
        response = attacked.http.post("/graphql", json={"query": target.mutation}, headers=headers)

    assert (response.status_code, response.json()) == (401, UNAUTHENTICATED_BODY)
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert log.statements == []
    assert written_rows(attacked.database_url) == NOTHING_WRITTEN
    assert entra.entra.request_count("discovery", forger.bait_tenant_id) == 0
    assert entra.entra.request_count("jwks", forger.bait_tenant_id) == 0


def test_the_forged_tokens_differ_from_a_good_one_only_by_the_attack(
    api_server: ApiServer, entra: RunningEntra
) -> None:
    """The control: the same mutations with untouched tokens do write."""
    for make_target in TARGETS.values():
        target = make_target()
        forger = Forger(entra=entra, target=target, bait_tenant_id=new_tenant_id(), now=int(time.time()))
        response = api_server.http.post("/graphql", json={"query": target.mutation}, headers=forger.bearer())
        assert response.status_code == 200
        assert "errors" not in response.json(), response.json()
    rows = written_rows(api_server.database_url)
    assert (rows["organizations"], rows["programs"]) == (1, 1)


FORBIDDEN: dict[str, tuple[Callable[[RunningEntra], str], str]] = {
    "a user without the Global Administrator role registers an organization": (
        lambda entra: personas.user(entra, personas.Tenant()).token,
        REGISTER,
    ),
    "an app token claiming Partner.GlobalAdmin registers an organization": (
        lambda entra: entra.mint(
            tenant_id=new_tenant_id(), object_id=new_tenant_id(), app=True, roles=(GLOBAL_ADMIN_APP_ROLE,)
        ),
        REGISTER,
    ),
    "a user with the operator role from a partner tenant creates a program": (
        lambda entra: entra.mint(
            tenant_id=new_tenant_id(), object_id=new_tenant_id(), roles=(OPERATOR_APP_ROLE,)
        ),
        CREATE_PROGRAM,
    ),
    "a Global admin of a partner tenant creates a program": (
        lambda entra: personas.global_admin(entra, personas.Tenant()).token,
        CREATE_PROGRAM,
    ),
}


@pytest.mark.parametrize("case", list(FORBIDDEN))
def test_a_valid_token_without_the_right_gets_forbidden_and_nothing_is_written(
    api: InProcessApi, entra: RunningEntra, case: str
) -> None:
    token_for, mutation = FORBIDDEN[case]

    body = api.graphql(mutation, token=token_for(entra))

    assert api.last_status == 200
    assert [error["extensions"]["code"] for error in body["errors"]] == ["FORBIDDEN"]
    rows = written_rows(api.database_url)
    assert (rows["organizations"], rows["programs"], rows["audit_events"]) == (0, 0, 0)


def test_a_key_that_another_tenant_really_publishes_does_not_sign_for_this_tenant(sqlite_url: str) -> None:
    tenant_a, tenant_b = new_tenant_id(), new_tenant_id()
    with served_flaky_entra() as issuer, configured_api(sqlite_url, authority=issuer.base_url) as api:
        b_key = issuer.publish_tenant_key(tenant_b)

        def token(tenant_id: str) -> str:
            return issuer.mint(
                tenant_id=tenant_id,
                object_id=new_tenant_id(),
                audience=API_CLIENT_ID,
                wids=(GLOBAL_ADMINISTRATOR_WID,),
                key=b_key,
            )

        as_b = api.graphql("{ viewer { objectId } }", token=token(tenant_b))
        assert api.last_status == 200, as_b  # the key is real, published and cached for tenant B
        forged = api.graphql(REGISTER, token=token(tenant_a))

        assert (api.last_status, forged) == (401, UNAUTHENTICATED_BODY)
        assert issuer.request_count("jwks", tenant_a) >= 1  # looked up in A's keys, and not found there
    assert written_rows(sqlite_url) == NOTHING_WRITTEN


def test_a_v1_token_is_accepted_when_v1_acceptance_is_switched_on(
    entra: RunningEntra, sqlite_url: str
) -> None:
    forger = Forger(
        entra=entra,
        target=TARGETS["would-be Global admin registers an organization"](),
        bait_tenant_id="",
        now=0,
    )
    with configured_api(sqlite_url, authority=entra.base_url, accept_v1_tokens=True) as api:
        response = api.http.post("/graphql", json={"query": REGISTER}, headers=_v1(forger))

    assert response.status_code == 200
    assert response.json()["data"]["registerOrganization"]["userErrors"] == []
    assert written_rows(sqlite_url)["organizations"] == 1
