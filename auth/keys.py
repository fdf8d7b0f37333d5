"""Entra signing keys per tenant, fetched through OpenID discovery and cached in memory.

For tenant `tid` the keys come from the `jwks_uri` named by
`{authority_host}/{tid}/v2.0/.well-known/openid-configuration`, whose `issuer` must be exactly
`{authority_host}/{tid}/v2.0`. Keys live for `ttl_seconds`; when a refresh fails the last good keys
stay usable up to `max_stale_seconds` after they were fetched. An unknown `kid` triggers a refresh,
at most one per `min_refresh_interval` per tenant, and concurrent callers share one fetch.

`refresh_in_use()` refreshes every tenant that presented a token lately; `auth.key_refresh` calls it
in the background about hourly, so requests seldom wait on Microsoft. While a refresh is in flight,
a request whose key is already known is answered from memory instead of queueing behind it.

Any tenant may present a token, so strangers are bounded: a tenant whose keys were never fetched
and that is not `known()` (the tenants of the organizations the service holds, and the operator's)
may cause a first fetch only while a global budget allows (`new_tenants_per_minute`); past it its
tokens are refused without a call out. A failed fetch is not tried again for `min_refresh_interval`
(the negative cache). Known tenants, and those fetched successfully, are the last to be forgotten
when the cache is full, and the known ones are refreshed in the background even when idle.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from jwt.algorithms import RSAAlgorithm
from jwt.exceptions import InvalidKeyError

from auth.errors import SignInUnavailable

logger = logging.getLogger(__name__)

_MAX_DOCUMENT_BYTES = 256 * 1024
_MIN_RSA_BITS = 2048


def is_loopback_host(host: str) -> bool:
    """True for `localhost`, 127.0.0.0/8 and ::1 (brackets allowed): hosts that never leave the machine."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_acceptable_url(url: str, *, allow_http: bool) -> bool:
    """An absolute http(s) URL with a host; plain http only when `allow_http` and the host is loopback."""
    parts = urlsplit(url)
    if not parts.hostname:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and allow_http and is_loopback_host(parts.hostname)


class _FetchFailed(Exception):
    pass


@dataclass
class _TenantKeys:
    keys: dict[str, RSAPublicKey] = field(default_factory=dict)
    jwks_uri: str | None = None
    fetched_at: float | None = None  # last successful fetch
    attempted_at: float | None = None  # last fetch, successful or not
    used_at: float | None = None  # last time a token of this tenant asked for a key
    generation: int = 0  # bumped after every fetch, so waiters can tell one finished while they queued
    last_error: str | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class SigningKeys:
    """The RSA public keys Entra signs each tenant's tokens with.

    `await keys.key_for(tenant_id, kid)` returns the key or raises `SignInUnavailable`.
    """

    def __init__(
        self,
        authority_host: str,
        http: httpx.AsyncClient,
        *,
        ttl_seconds: float = 3600,
        max_stale_seconds: float = 24 * 3600,
        min_refresh_interval: float = 300,
        timeout_seconds: float = 5,
        max_tenants: int = 10_000,
        new_tenants_per_minute: int = 60,
        now: Callable[[], float] = time.monotonic,
        fetched: Callable[[bool], None] = lambda ok: None,
    ) -> None:
        self.authority_host = authority_host
        self._fetched = fetched  # told each fetch's outcome (metrics)
        self._http = http
        self._ttl = ttl_seconds
        self._max_stale = max_stale_seconds
        self._min_refresh_interval = min_refresh_interval
        self._timeout = timeout_seconds
        self._max_tenants = max_tenants
        self._now = now
        # Plain http is for loopback test issuers only; a real authority and its JWKS use https.
        self._allow_http = is_loopback_host(urlsplit(authority_host).hostname or "")
        self._tenants: OrderedDict[str, _TenantKeys] = OrderedDict()
        self._known: set[str] = set()
        self._new_per_minute = new_tenants_per_minute
        self._new_allowance = float(new_tenants_per_minute)
        self._new_counted_at = now()

    def known(self, tenant_ids: set[str] | frozenset[str] | list[str]) -> None:
        """Tenants the service holds (organizations', the operator's): never budgeted or forgotten."""
        self._known.update(tenant_ids)

    async def key_for(self, tenant_id: str, kid: str) -> RSAPublicKey:
        entry = self._entry(tenant_id)
        entry.used_at = self._now()
        key = self._usable_key(entry, kid)
        if key is not None and (self._is_fresh(entry) or entry.lock.locked()):
            return key  # a stale key we hold stays good while someone else refreshes
        if entry.attempted_at is None and tenant_id not in self._known and not self._may_meet_stranger():
            raise SignInUnavailable(f"tenant {tenant_id} is new and too many new tenants asked lately")
        await self._refresh(tenant_id, entry)
        key = self._usable_key(entry, kid)
        if key is not None:
            return key
        if entry.fetched_at is None or not self._usable(entry):
            raise SignInUnavailable(f"no signing keys for tenant {tenant_id}: {entry.last_error}")
        raise SignInUnavailable(f"kid not among the signing keys of tenant {tenant_id}")

    async def refresh_in_use(self, *, concurrency: int = 8) -> None:
        """Refresh the keys of every tenant used within `max_stale_seconds`; forget the others."""
        for tenant_id in [
            t for t, e in self._tenants.items() if not self._in_use(e) and t not in self._known
        ]:
            del self._tenants[tenant_id]
        for tenant_id in self._known - self._tenants.keys():
            self._tenants[tenant_id] = _TenantKeys()
        gate = asyncio.Semaphore(concurrency)

        async def refresh(tenant_id: str, entry: _TenantKeys) -> None:
            async with gate:
                await self._refresh(tenant_id, entry)

        await asyncio.gather(*(refresh(t, e) for t, e in list(self._tenants.items())))

    def _may_meet_stranger(self) -> bool:
        """Take one from the budget of first fetches for unknown tenants (refilled continuously)."""
        now = self._now()
        rate = self._new_per_minute / 60
        self._new_allowance = min(
            float(self._new_per_minute), self._new_allowance + (now - self._new_counted_at) * rate
        )
        self._new_counted_at = now
        if self._new_allowance < 1:
            return False
        self._new_allowance -= 1
        return True

    def _in_use(self, entry: _TenantKeys) -> bool:
        return entry.used_at is not None and self._now() - entry.used_at <= self._max_stale

    def _entry(self, tenant_id: str) -> _TenantKeys:
        entry = self._tenants.get(tenant_id)
        if entry is None:
            entry = self._tenants[tenant_id] = _TenantKeys()
            # Any tenant may present a token, so bound what strangers can make us remember.
            if len(self._tenants) > self._max_tenants:
                self._forget_one()
        self._tenants.move_to_end(tenant_id)
        return entry

    def _forget_one(self) -> None:
        """The least recently used stranger without keys, else the least recently used of all."""
        for tenant_id, entry in self._tenants.items():
            if entry.fetched_at is None and tenant_id not in self._known:
                del self._tenants[tenant_id]
                return
        self._tenants.popitem(last=False)

    def _is_fresh(self, entry: _TenantKeys) -> bool:
        return entry.fetched_at is not None and self._now() - entry.fetched_at < self._ttl

    def _usable(self, entry: _TenantKeys) -> bool:
        return entry.fetched_at is not None and self._now() - entry.fetched_at <= self._max_stale

    def _usable_key(self, entry: _TenantKeys, kid: str) -> RSAPublicKey | None:
        return entry.keys.get(kid) if self._usable(entry) else None

    def _may_fetch(self, entry: _TenantKeys) -> bool:
        if entry.attempted_at is None:
            return True
        return self._now() - entry.attempted_at >= self._min_refresh_interval

    async def _refresh(self, tenant_id: str, entry: _TenantKeys) -> None:
        seen = entry.generation
        async with entry.lock:
            if entry.generation != seen or not self._may_fetch(entry):
                return  # someone fetched while we waited, or we fetched too recently to ask again
            previous_attempt, entry.attempted_at = entry.attempted_at, self._now()
            try:
                await self._fetch_into(tenant_id, entry)
                self._fetched(True)
            except _FetchFailed as failure:
                self._fetched(False)
                entry.last_error = str(failure)
                logger.warning("signing keys of tenant %s not refreshed: %s", tenant_id, failure)
            except asyncio.CancelledError:
                # The request that fetched went away: not an attempt, so the next waiter fetches now.
                entry.attempted_at = previous_attempt
                raise
            # Bumped when the fetch is over, so everyone who queued behind it uses its outcome.
            entry.generation += 1

    async def _fetch_into(self, tenant_id: str, entry: _TenantKeys) -> None:
        if entry.jwks_uri is None or not self._is_fresh(entry):
            entry.jwks_uri = await self._discover(tenant_id)
        try:
            keys = _rsa_keys(await self._get_json(entry.jwks_uri))
        except _FetchFailed:
            entry.jwks_uri = None  # it may have moved: discover again next time
            raise
        entry.keys, entry.fetched_at, entry.last_error = keys, self._now(), None

    async def _discover(self, tenant_id: str) -> str:
        issuer = f"{self.authority_host}/{tenant_id}/v2.0"
        document = await self._get_json(f"{issuer}/.well-known/openid-configuration")
        if document.get("issuer") != issuer:
            raise _FetchFailed("discovery document names another issuer")
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not is_acceptable_url(jwks_uri, allow_http=self._allow_http):
            raise _FetchFailed("discovery document has no acceptable jwks_uri")
        return jwks_uri

    async def _get_json(self, url: str) -> Mapping[str, Any]:
        try:
            async with asyncio.timeout(self._timeout):
                body = await self._read(url)
        except (httpx.HTTPError, TimeoutError) as error:
            raise _FetchFailed(f"GET {url} failed: {type(error).__name__}") from error
        try:
            document = json.loads(body)
        except ValueError as error:
            raise _FetchFailed(f"GET {url}: not JSON") from error
        if not isinstance(document, dict):
            raise _FetchFailed(f"GET {url}: not a JSON object")
        return document

    async def _read(self, url: str) -> bytes:
        async with self._http.stream("GET", url, timeout=self._timeout, follow_redirects=False) as response:
            if response.status_code != 200:
                raise _FetchFailed(f"GET {url} answered {response.status_code}")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > _MAX_DOCUMENT_BYTES:
                    raise _FetchFailed(f"GET {url}: document too large")
            return bytes(body)


def _rsa_keys(jwks: Mapping[str, Any]) -> dict[str, RSAPublicKey]:
    entries = jwks.get("keys")
    if not isinstance(entries, list):
        raise _FetchFailed("JWKS has no keys list")
    keys: dict[str, RSAPublicKey] = {}
    for jwk in entries:
        parsed = _rsa_signing_key(jwk)
        if parsed is not None:
            keys[parsed[0]] = parsed[1]
    return keys


def _rsa_signing_key(jwk: object) -> tuple[str, RSAPublicKey] | None:
    """(kid, key) for an RSA signature key of at least 2048 bits; None for anything else."""
    if not isinstance(jwk, dict) or jwk.get("kty") != "RSA" or jwk.get("use", "sig") != "sig":
        return None
    kid = jwk.get("kid")
    if not isinstance(kid, str) or jwk.get("alg", "RS256") != "RS256":
        return None
    try:
        key = RSAAlgorithm.from_jwk(jwk)
    except (InvalidKeyError, ValueError, TypeError, KeyError):
        return None
    if isinstance(key, RSAPrivateKey):
        key = key.public_key()  # a JWKS should never carry private parts; use only the public half
    return (kid, key) if key.key_size >= _MIN_RSA_BITS else None
