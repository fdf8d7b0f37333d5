"""The issuer at the heart of the loopback Entra: signing keys, discovery documents, minted tokens.

    issuer = LoopbackIssuer("http://127.0.0.1:8123")
    token = issuer.mint(tenant_id=tid, object_id=oid, audience=client_id)

It serves nothing itself (`sandbox.entra` puts it behind HTTP routes); the token endpoints and
the loopback Graph mint and verify through it, and count what they served with `count_request`.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal, Protocol

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

DEMO_CLIENT_APP_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"  # the client app named in `azp`
MULTI_TENANT_AUTHORITIES = frozenset({"organizations", "common"})
RequestKind = Literal["discovery", "jwks", "instance_discovery", "devicecode", "authorize", "token", "graph"]


@dataclass(frozen=True)
class LoopbackKey:
    """One RSA signing key and the `kid` it is published under."""

    kid: str
    private_key: rsa.RSAPrivateKey

    @classmethod
    def generate(cls) -> LoopbackKey:
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls(kid=secrets.token_urlsafe(16), private_key=private_key)

    def public_jwk(self) -> dict[str, Any]:
        jwk = RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}


class SignedInUser(Protocol):
    """Who an ID token is about: a user of one tenant's directory (`sandbox.graph.LoopbackUser`)."""

    @property
    def tenant_id(self) -> str: ...

    @property
    def object_id(self) -> str: ...

    @property
    def user_principal_name(self) -> str: ...

    @property
    def display_name(self) -> str: ...


class LoopbackIssuer:
    """Keys, issuers and tokens for any tenant under one base URL; safe across threads."""

    def __init__(self, issuer_base: str | None = None) -> None:
        self._base = issuer_base.rstrip("/") if issuer_base else None
        self._keys: list[LoopbackKey] = [LoopbackKey.generate()]
        self._requests: Counter[tuple[RequestKind, str]] = Counter()
        # The server thread reads keys and counts requests while a test thread rotates and reads.
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        if self._base is None:
            raise RuntimeError("the loopback issuer has no base URL yet: serve it, or call set_base(url)")
        return self._base

    def set_base(self, url: str) -> None:
        self._base = url.rstrip("/")

    def issuer(self, tenant_id: str) -> str:
        return f"{self.base_url}/{tenant_id}/v2.0"

    @property
    def current_key(self) -> LoopbackKey:
        with self._lock:
            return self._keys[-1]

    @property
    def published_keys(self) -> tuple[LoopbackKey, ...]:
        with self._lock:
            return tuple(self._keys)

    def rotate_key(self, *, retire_old: bool = False) -> LoopbackKey:
        """Publish a new signing key and sign with it from now on; keep the old ones published
        unless `retire_old`."""
        key = LoopbackKey.generate()
        with self._lock:
            self._keys = [key] if retire_old else [*self._keys, key]
        return key

    def request_count(self, kind: RequestKind, tenant_id: str | None = None) -> int:
        """How many discovery or JWKS requests were served (for one tenant, or all)."""
        with self._lock:
            return sum(n for (k, t), n in self._requests.items() if k == kind and tenant_id in (None, t))

    def count_request(self, kind: RequestKind, tenant_id: str) -> None:
        with self._lock:
            self._requests[(kind, tenant_id)] += 1

    def openid_configuration(self, tenant_id: str, *, public_base: str | None = None) -> dict[str, Any]:
        """The tenant's discovery document, with endpoints under `public_base` when given (a
        request routed here for that public host) and under the loopback base otherwise."""
        base = public_base or self.base_url
        # Like Entra, the multi-tenant authorities publish an issuer with a {tenantid} template.
        issuer_tenant = "{tenantid}" if tenant_id in MULTI_TENANT_AUTHORITIES else tenant_id
        return {
            "issuer": f"{base}/{issuer_tenant}/v2.0",
            "jwks_uri": f"{base}/{tenant_id}/discovery/v2.0/keys",
            "authorization_endpoint": f"{base}/{tenant_id}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/{tenant_id}/oauth2/v2.0/token",
            "device_authorization_endpoint": f"{base}/{tenant_id}/oauth2/v2.0/devicecode",
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "subject_types_supported": ["pairwise"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "tenant_region_scope": "WW",
        }

    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.public_jwk() for key in self.published_keys]}

    def mint(
        self,
        *,
        tenant_id: str,
        object_id: str,
        audience: str,
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
        """A v2 access token: a user token with `scp`, or (`app=True`) an app-only token with
        `idtyp: app` and no `scp`. `extra_claims` and `headers` override what is minted; a value of
        None removes that claim or header (to mint broken tokens for tests)."""
        signing_key = key or self.current_key
        now = int(time.time())
        claims: dict[str, Any] = {
            "aud": audience,
            "iss": self.issuer(tenant_id),
            "iat": now,
            "nbf": now,
            "exp": now + int(lifetime.total_seconds()),
            "azp": client_app_id,
            "azpacr": "0",
            "oid": object_id,
            "sub": object_id if app else _pairwise_subject(object_id, audience),
            "tid": tenant_id,
            "uti": secrets.token_urlsafe(16),
            "ver": "2.0",
        }
        claims.update(_app_claims(roles) if app else _user_claims(scopes, roles, wids, name, email))
        minted_headers = _without_nones({"kid": signing_key.kid, "typ": "JWT", **(headers or {})})
        return jwt.encode(
            _without_nones({**claims, **(extra_claims or {})}),
            signing_key.private_key,
            algorithm=algorithm,
            headers=minted_headers,
        )

    def mint_id_token(
        self,
        *,
        user: SignedInUser,
        client_id: str,
        lifetime: timedelta = timedelta(hours=1),
        nonce: str | None = None,
    ) -> str:
        """An ID token for `user`, addressed to the client app that signed them in (with the
        `nonce` of its authorization request, when it sent one)."""
        now = int(time.time())
        claims = {
            "aud": client_id,
            "iss": self.issuer(user.tenant_id),
            "iat": now,
            "nbf": now,
            "exp": now + int(lifetime.total_seconds()),
            "oid": user.object_id,
            "sub": _pairwise_subject(user.object_id, client_id),
            "tid": user.tenant_id,
            "name": user.display_name,
            "preferred_username": user.user_principal_name,
            "ver": "2.0",
        }
        if nonce is not None:
            claims["nonce"] = nonce
        key = self.current_key
        return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid, "typ": "JWT"})


def _user_claims(
    scopes: Sequence[str], roles: Sequence[str], wids: Sequence[str], name: str | None, email: str | None
) -> dict[str, Any]:
    claims: dict[str, Any] = {"idtyp": "user", "scp": " ".join(scopes), "name": name}
    if email is not None:
        claims["preferred_username"] = email
        claims["email"] = email
    if roles:
        claims["roles"] = list(roles)
    if wids:
        claims["wids"] = list(wids)
    return _without_nones(claims)


def _app_claims(roles: Sequence[str]) -> dict[str, Any]:
    return {"idtyp": "app", "roles": list(roles)}


def _pairwise_subject(object_id: str, audience: str) -> str:
    # Entra's `sub` is per (user, application) and is not the oid; mimic that so nobody keys on it.
    digest = hashlib.sha256(f"{object_id}:{audience}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _without_nones(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


def new_tenant_id() -> str:
    """A fresh tenant (or object) GUID, lowercase as Entra writes them."""
    return str(uuid.uuid4())
