"""Validation of Entra ID access tokens into an `Identity`, as Microsoft documents it.

v2 tokens (issuer `{authority_host}/{tid}/v2.0`) are what the API takes. v1 tokens (issuer
`https://sts.windows.net/{tid}/`, `ver` 1.0, audience the client id or `api://{client_id}`) are
refused unless `TokenRules.accept_v1_tokens`; both are signed with the keys of the same tenant
discovery document, so they share one key cache.

The cheap checks that need no key (header shape, algorithm, kid, tenant, issuer) run before any
key is fetched, so a malformed or foreign token never makes us call out to the authority.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import jwt

from auth.errors import Unauthenticated
from auth.keys import SigningKeys, is_loopback_host
from auth.principal import Identity

GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_KID = re.compile(r"[A-Za-z0-9_\-=.]{1,128}")
_ALGORITHM = "RS256"
# Headers that would let the token choose its own key, or demand extensions we do not implement.
_REFUSED_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c", "crit"})
_REQUIRED_CLAIMS = ["exp", "nbf", "iat", "iss", "aud", "tid", "oid"]
_V1_ISSUER_HOST = "sts.windows.net"
_V1_ISSUER = "https://sts.windows.net/{tenant_id}/"
_MAX_CLOCK_SKEW_SECONDS = 120


def is_guid(value: object) -> bool:
    return isinstance(value, str) and GUID.fullmatch(value) is not None


@dataclass(frozen=True)
class TokenRules:
    """What an acceptable token looks like; `ValueError` on settings that would weaken it."""

    authority_host: str
    client_id: str
    operator_tenant_id: str
    required_scope: str = "access_as_user"
    clock_skew_seconds: int = 120
    max_token_bytes: int = 16384
    accept_v1_tokens: bool = False
    # Client application ids (azp in v2, appid in v1), lower case; empty allows any client app.
    allowed_client_apps: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        _check_authority_host(self.authority_host)
        if not self.client_id.strip():
            raise ValueError("client_id is required")
        if not is_guid(self.operator_tenant_id):
            raise ValueError("operator_tenant_id must be a GUID")
        if not self.required_scope or " " in self.required_scope:
            raise ValueError("required_scope must be one scope name")
        if not 0 <= self.clock_skew_seconds <= _MAX_CLOCK_SKEW_SECONDS:
            raise ValueError(f"clock_skew_seconds must be within 0..{_MAX_CLOCK_SKEW_SECONDS}")
        if self.max_token_bytes <= 0:
            raise ValueError("max_token_bytes must be positive")
        if not all(is_guid(app) and app == app.lower() for app in self.allowed_client_apps):
            raise ValueError("allowed_client_apps must be lower-case GUIDs")

    def issuer_for(self, tenant_id: str) -> str:
        return f"{self.authority_host}/{tenant_id}/v2.0"

    def expected_for(self, claims: Mapping[str, Any]) -> Expected:
        """What the (still unverified) claims must verify as; `Unauthenticated` for a foreign issuer."""
        tenant_id = claims.get("tid")
        if not is_guid(tenant_id):
            raise Unauthenticated("tid missing or not a GUID")
        assert isinstance(tenant_id, str)
        issuer, version = claims.get("iss"), claims.get("ver", "2.0")
        v2_issuer, v1_issuer = self.issuer_for(tenant_id), _V1_ISSUER.format(tenant_id=tenant_id)
        if issuer == v2_issuer and version == "2.0":
            return Expected(tenant_id, v2_issuer, self.client_id, "azp")
        if _is_v1(issuer, version):
            if not (self.accept_v1_tokens and issuer == v1_issuer and version == "1.0"):
                raise Unauthenticated("not a v2.0 access token (or a v1 token from another tenant)")
            return Expected(tenant_id, v1_issuer, self._v1_audience(claims.get("aud")), "appid")
        raise Unauthenticated("iss is not the authority's issuer for the token's tid")

    def _v1_audience(self, audience: object) -> str:
        # v1 tokens name the API by its Application ID URI unless the client asked by client id.
        accepted = (self.client_id, f"api://{self.client_id}")
        return audience if isinstance(audience, str) and audience in accepted else self.client_id


@dataclass(frozen=True)
class Expected:
    """The tenant, issuer and audience a token must carry, and which claim names its client app."""

    tenant_id: str
    issuer: str
    audience: str
    client_app_claim: str


def _is_v1(issuer: object, version: object) -> bool:
    v1_host = isinstance(issuer, str) and urlsplit(issuer).hostname == _V1_ISSUER_HOST
    return v1_host or version != "2.0"


def _check_authority_host(authority_host: str) -> None:
    parts = urlsplit(authority_host)
    if not parts.hostname or parts.username or parts.password:
        raise ValueError(f"authority_host must be a URL like https://host: {authority_host!r}")
    if parts.path or parts.query or parts.fragment:
        # The issuer is built by appending to it, so a trailing slash or path would never match.
        raise ValueError(f"authority_host must have no path, query or trailing slash: {authority_host!r}")
    if parts.scheme == "https":
        return
    if parts.scheme == "http" and is_loopback_host(parts.hostname):
        return
    raise ValueError(f"authority_host must use https (plain http only on loopback): {authority_host!r}")


# Tokens remembered as accepted (an SPA sends the same token for up to an hour).
ACCEPTED_TOKENS = 10_000


@dataclass(frozen=True)
class _Accepted:
    identity: Identity
    expires_at: float  # the token's exp
    tenant_id: str
    kid: str
    key: Any  # the key that verified it: a refresh that drops or replaces it ends the memory


class TokenValidator:
    """`await validator.validate(request.headers.getlist("authorization"))` -> `Identity`.

    Raises `Unauthenticated` (with a reason for the logs) when any check fails.
    """

    def __init__(
        self,
        rules: TokenRules,
        keys: SigningKeys,
        *,
        remembered: int = ACCEPTED_TOKENS,
        now: Callable[[], float] = time.time,
    ) -> None:
        if keys.authority_host != rules.authority_host:
            raise ValueError("the signing keys must come from the rules' authority host")
        self.rules = rules
        self._keys = keys
        self._now = now
        self._capacity = remembered
        self._accepted: OrderedDict[bytes, _Accepted] = OrderedDict()

    async def validate(self, authorization: Sequence[str]) -> Identity:
        token = self._bearer_token(authorization)
        digest = hashlib.sha256(token.encode("ascii")).digest()
        accepted = self._accepted.get(digest)
        if accepted is not None:
            if await self._still_good(accepted):
                self._accepted.move_to_end(digest)
                return accepted.identity
            del self._accepted[digest]
        header = _unverified_header(token)
        kid = _checked_kid(header)
        expected = self.rules.expected_for(_unverified_claims(token))
        # Keys are looked up in the token's own tenant only: another tenant's keys never sign for it.
        key = await self._keys.key_for(expected.tenant_id, kid)
        claims = self._verified_claims(token, key, expected)
        client_app_id = self._checked_client_app(claims, expected)
        identity = _identity(claims, is_app=self._is_app(claims), client_app_id=client_app_id)
        if self._capacity:
            self._accepted[digest] = _Accepted(identity, float(claims["exp"]), expected.tenant_id, kid, key)
            while len(self._accepted) > self._capacity:
                self._accepted.popitem(last=False)
        return identity

    async def _still_good(self, accepted: _Accepted) -> bool:
        """A token accepted before is accepted again without its signature checked again (a tenth of
        a small request's time) while it has not expired and its key is still the tenant's."""
        if self._now() > accepted.expires_at + self.rules.clock_skew_seconds:
            return False
        try:
            key = await self._keys.key_for(accepted.tenant_id, accepted.kid)
        except Unauthenticated:
            return False
        return key is accepted.key

    def _bearer_token(self, authorization: Sequence[str]) -> str:
        if isinstance(authorization, str):
            raise TypeError("pass every Authorization header value as a sequence, not one string")
        if len(authorization) != 1:
            raise Unauthenticated(f"expected one Authorization header, got {len(authorization)}")
        value = authorization[0]
        if len(value) > self.rules.max_token_bytes + len("Bearer "):
            raise Unauthenticated("token too large")
        scheme, _, token = value.strip().partition(" ")
        token = token.strip()
        # A compact JWS is ASCII, so its length in characters is its length in bytes.
        if scheme.lower() != "bearer" or not token or not token.isascii() or " " in token:
            raise Unauthenticated("Authorization is not 'Bearer <token>'")
        if len(token) > self.rules.max_token_bytes:
            raise Unauthenticated("token too large")
        return token

    def _verified_claims(self, token: str, key: Any, expected: Expected) -> Mapping[str, Any]:
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[_ALGORITHM],
                audience=expected.audience,
                issuer=expected.issuer,
                leeway=self.rules.clock_skew_seconds,
                options={"require": _REQUIRED_CLAIMS, "strict_aud": True, "enforce_minimum_key_length": True},
            )
        except jwt.PyJWTError as error:
            raise Unauthenticated(f"token refused: {type(error).__name__}: {error}") from error
        _check_verified(claims, expected)
        return claims

    def _checked_client_app(self, claims: Mapping[str, Any], expected: Expected) -> str | None:
        client_app_id = _optional_string(claims, expected.client_app_claim)
        allowed = self.rules.allowed_client_apps
        if allowed and (client_app_id is None or client_app_id.lower() not in allowed):
            raise Unauthenticated(f"client application {client_app_id!r} is not allowed to call")
        return client_app_id

    def _is_app(self, claims: Mapping[str, Any]) -> bool:
        """User tokens carry the required delegated scope; app-only tokens say idtyp=app instead."""
        scp = claims.get("scp")
        if claims.get("idtyp") == "app":
            if scp is not None:
                raise Unauthenticated("app-only token carries delegated scopes")
            return True
        if not isinstance(scp, str) or self.rules.required_scope not in scp.split():
            raise Unauthenticated("user token lacks the required scope")
        return False


def _unverified_header(token: str) -> Mapping[str, Any]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise Unauthenticated(f"malformed token header: {error!s:.200}") from error
    if header.get("alg") != _ALGORITHM:
        raise Unauthenticated("alg is not RS256")
    refused = _REFUSED_HEADERS.intersection(header)
    if refused:
        raise Unauthenticated(f"refused header parameters: {sorted(refused)}")
    return header


def _checked_kid(header: Mapping[str, Any]) -> str:
    kid = header.get("kid")
    if not isinstance(kid, str) or _KID.fullmatch(kid) is None:
        raise Unauthenticated("kid missing or malformed")
    return kid


def _unverified_claims(token: str) -> Mapping[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as error:
        raise Unauthenticated(f"malformed token payload: {type(error).__name__}") from error
    return claims


def _check_verified(claims: Mapping[str, Any], expected: Expected) -> None:
    if claims.get("tid") != expected.tenant_id:
        raise Unauthenticated("tid changed between reads")  # cannot happen; kept as a tripwire
    if not isinstance(claims.get("aud"), str):
        raise Unauthenticated("aud is not a single string")
    if not is_guid(claims.get("oid")):
        raise Unauthenticated("oid is not a GUID")
    if "nonce" in claims or "at_hash" in claims:
        raise Unauthenticated("an ID token is not an access token")


def _identity(claims: Mapping[str, Any], *, is_app: bool, client_app_id: str | None) -> Identity:
    return Identity(
        tenant_id=claims["tid"],
        object_id=claims["oid"],
        display_name=_optional_string(claims, "name"),
        email=_email(claims),
        app_roles=_string_set(claims, "roles"),
        wids=_string_set(claims, "wids"),
        scopes=frozenset((_optional_string(claims, "scp") or "").split()),
        is_app=is_app,
        client_app_id=client_app_id,
        expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
    )


def _email(claims: Mapping[str, Any]) -> str | None:
    for name in ("email", "preferred_username"):
        value = _optional_string(claims, name)
        if value is not None and "@" in value:
            return value
    return None


def _optional_string(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    if value is None or isinstance(value, str):
        return value
    raise Unauthenticated(f"claim {name} is not a string")


def _string_set(claims: Mapping[str, Any], name: str) -> frozenset[str]:
    values = claims.get(name, [])
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise Unauthenticated(f"claim {name} is not a list of strings")
    return frozenset(values)
