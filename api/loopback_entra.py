"""An Entra-shaped sign-in service on loopback: the demo's identity provider and the tests'.

It publishes, for any GUID tenant, what the API fetches from Microsoft Entra ID, and mints
v2 access tokens signed with its own RSA keys:

    GET /{tenant}/v2.0/.well-known/openid-configuration   issuer = {base_url}/{tenant}/v2.0
    GET /{tenant}/discovery/v2.0/keys                     JWKS of every published key

and, for MSAL (see `api.loopback_oauth`) and as a small Microsoft Graph (see `api.loopback_graph`):

    GET  /common/discovery/instance                       instance discovery
    POST /{tenant}/oauth2/v2.0/devicecode                 device codes, approved by the test
    POST /{tenant}/oauth2/v2.0/token                      client credentials, device code, refresh
    GET  /v1.0/users/{id or upn}, /v1.0/users?$search=    the directory (`add_directory_user`)
    POST /v1.0/users/{id}/sendMail                        recorded in `sent_mail`

A request routed here for a Microsoft host (`api.loopback_routing`) carries
`X-Loopback-Public-Base: https://login.microsoftonline.com`; discovery then names that host's
endpoints, because that is the authority MSAL believes it talks to. Tokens always carry the
loopback issuer, which is what the API under test trusts.

Running it (loopback hosts only; anything else is a `ValueError`):

    entra = LoopbackEntra()
    with LoopbackEntraServer(entra) as server:       # uvicorn on a background thread, port 0
        token = entra.mint(tenant_id=tid, object_id=oid, audience=client_id)
        rules = TokenRules(authority_host=server.base_url, ...)

    # or inside a running event loop
    server, base_url = await serve_loopback(entra)
    ...
    await server.stop()

Both runners call `entra.set_base(base_url)` once the port is bound, so issuers and tokens name
the real address. `entra.request_count("jwks", tenant_id)` counts what the API fetched, and
`entra.rotate_key()` publishes a new signing key, for key-cache and rotation tests.

    entra.register_application(client_id, secret="s3cret")             # confidential client
    entra.register_application(cli_id, public_client=True)               # device-code client
    alice = entra.add_directory_user(tid, oid, "alice@contoso.com", "Alice", "alice@contoso.com")
    entra.auto_approve_device_codes(alice)        # or entra.approve_device_code(user_code, alice)
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
from typing import Any, Literal

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from api.loopback_clients import LoopbackApplication
from api.loopback_graph import LoopbackDirectory, LoopbackGraph, LoopbackUser, SentMail
from api.loopback_oauth import MULTI_TENANT_AUTHORITIES, LoopbackOAuth
from api.loopback_routing import public_base_from
from api.loopback_server import LoopbackEntraServer as LoopbackEntraServer
from api.loopback_server import LoopbackUvicorn as LoopbackUvicorn
from api.loopback_server import serve_loopback as serve_loopback
from auth.tokens import is_guid

DEMO_CLIENT_APP_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"  # the client app named in `azp`
RequestKind = Literal["discovery", "jwks", "instance_discovery", "devicecode", "token", "graph"]


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


class LoopbackEntra:
    """Discovery, JWKS and token minting for any tenant, under one base URL."""

    def __init__(self, issuer_base: str | None = None) -> None:
        self._base = issuer_base.rstrip("/") if issuer_base else None
        self._keys: list[LoopbackKey] = [LoopbackKey.generate()]
        self._requests: Counter[tuple[RequestKind, str]] = Counter()
        # The server thread reads keys and counts requests while a test thread rotates and reads.
        self._lock = threading.Lock()
        self._directory = LoopbackDirectory()
        self._oauth = LoopbackOAuth(self)
        self._app = Starlette(
            routes=[
                Route("/{tenant}/v2.0/.well-known/openid-configuration", self._discovery_endpoint),
                Route("/{tenant}/discovery/v2.0/keys", self._jwks_endpoint),
                *self._oauth.routes(),
                *LoopbackGraph(self, self._directory).routes(),
            ]
        )

    @property
    def app(self) -> Starlette:
        return self._app

    @property
    def base_url(self) -> str:
        if self._base is None:
            raise RuntimeError("LoopbackEntra has no base URL yet: serve it, or call set_base(url)")
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
        self, *, user: LoopbackUser, client_id: str, lifetime: timedelta = timedelta(hours=1)
    ) -> str:
        """An ID token for `user`, addressed to the client app that signed them in."""
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
        key = self.current_key
        return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid, "typ": "JWT"})

    # --- applications, directory and device codes (see api.loopback_oauth / api.loopback_graph) ---

    def register_application(
        self,
        client_id: str,
        *,
        secret: str | None = None,
        certificate: x509.Certificate | None = None,
        public_client: bool = False,
        roles: Sequence[str] = ("User.Read.All", "Mail.Send"),
    ) -> LoopbackApplication:
        """Register an app: a confidential client (`secret` and/or `certificate`; `roles` are its
        consented application permissions) or a `public_client` for the device-code flow."""
        application = LoopbackApplication(client_id, secret, certificate, public_client, tuple(roles))
        return self._oauth.register(application)

    def add_directory_user(
        self,
        tenant_id: str,
        object_id: str,
        user_principal_name: str,
        display_name: str,
        mail: str | None = None,
    ) -> LoopbackUser:
        """Put a user in `tenant_id`'s directory, for Graph lookups and device-code sign-in."""
        return self._directory.add(
            LoopbackUser(tenant_id, object_id, user_principal_name, display_name, mail)
        )

    def approve_device_code(self, user_code: str, user: LoopbackUser) -> None:
        """`user` signs in with `user_code`: the next poll for that device code gets tokens."""
        self._oauth.approve(user_code, user)

    def auto_approve_device_codes(self, user: LoopbackUser | None) -> None:
        """Approve every new device code as `user` at once (None: wait for `approve_device_code`)."""
        self._oauth.auto_approve(user)

    def pending_user_codes(self) -> list[str]:
        return self._oauth.pending_user_codes()

    @property
    def sent_mail(self) -> tuple[SentMail, ...]:
        return self._directory.sent_mail

    def count_request(self, kind: RequestKind, tenant_id: str) -> None:
        with self._lock:
            self._requests[(kind, tenant_id)] += 1

    _count = count_request

    async def _discovery_endpoint(self, request: Request) -> JSONResponse:
        tenant_id = request.path_params["tenant"]
        self._count("discovery", tenant_id)
        if not (is_guid(tenant_id) or tenant_id in MULTI_TENANT_AUTHORITIES):
            return _invalid_tenant()
        return JSONResponse(
            self.openid_configuration(tenant_id, public_base=public_base_from(request.headers))
        )

    async def _jwks_endpoint(self, request: Request) -> JSONResponse:
        tenant_id = request.path_params["tenant"]
        self._count("jwks", tenant_id)
        if not is_guid(tenant_id):
            return _invalid_tenant()
        return JSONResponse(self.jwks())


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


def _invalid_tenant() -> JSONResponse:
    return JSONResponse({"error": "invalid_tenant", "error_description": "Tenant not found."}, 400)


def new_tenant_id() -> str:
    """A fresh tenant (or object) GUID, lowercase as Entra writes them."""
    return str(uuid.uuid4())
