"""The signing-key cache: TTL, stale keys on failure, throttling and refusals, on a fake authority."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from auth.errors import SignInUnavailable
from auth.keys import SigningKeys
from sandbox.entra import LoopbackKey

AUTHORITY = "https://login.example.test"
TENANT = "5a5a5a5a-1b1b-4c2c-8d3d-4e4e4e4e4e4e"
ISSUER = f"{AUTHORITY}/{TENANT}/v2.0"
JWKS_URI = f"{AUTHORITY}/{TENANT}/discovery/v2.0/keys"
HOUR = 3600.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeAuthority:
    """Answers discovery and JWKS for TENANT; can be told to fail or to say something else."""

    def __init__(self) -> None:
        self.keys = [LoopbackKey.generate()]
        self.requests: Counter[str] = Counter()
        self.down = False
        self.discovery: dict[str, Any] = {"issuer": ISSUER, "jwks_uri": JWKS_URI}
        self.extra_jwks: list[dict[str, Any]] = []
        self.gate: asyncio.Event | None = None  # when set, requests wait until it opens
        self.arrived = asyncio.Event()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        kind = "jwks" if request.url.path.endswith("/keys") else "discovery"
        self.requests[kind] += 1
        self.arrived.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.down:
            return httpx.Response(503)
        if kind == "discovery":
            return httpx.Response(200, json=self.discovery)
        return httpx.Response(200, json={"keys": [*self.extra_jwks, *(k.public_jwk() for k in self.keys)]})


@pytest.fixture
def authority() -> FakeAuthority:
    return FakeAuthority()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def http(authority: FakeAuthority) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(authority)) as client:
        yield client


@pytest.fixture
def keys(http: httpx.AsyncClient, clock: Clock) -> SigningKeys:
    return SigningKeys(AUTHORITY, http, min_refresh_interval=300, now=clock)


def _kid(authority: FakeAuthority) -> str:
    return authority.keys[0].kid


async def test_keys_are_fetched_once_and_served_from_memory_within_the_ttl(
    keys: SigningKeys, authority: FakeAuthority, clock: Clock
) -> None:
    first = await keys.key_for(TENANT, _kid(authority))
    clock.now += HOUR - 1
    again = await keys.key_for(TENANT, _kid(authority))

    assert first.public_numbers() == again.public_numbers()
    assert authority.requests == {"discovery": 1, "jwks": 1}


async def test_keys_older_than_the_ttl_are_fetched_again_with_discovery(
    keys: SigningKeys, authority: FakeAuthority, clock: Clock
) -> None:
    await keys.key_for(TENANT, _kid(authority))
    clock.now += HOUR

    await keys.key_for(TENANT, _kid(authority))

    assert authority.requests == {"discovery": 2, "jwks": 2}


async def test_the_last_good_keys_serve_for_a_day_while_the_authority_is_down(
    keys: SigningKeys, authority: FakeAuthority, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    await keys.key_for(TENANT, _kid(authority))
    authority.down = True

    clock.now += 2 * HOUR
    await keys.key_for(TENANT, _kid(authority))
    assert "not refreshed" in caplog.text

    clock.now += 22 * HOUR + 1
    with pytest.raises(SignInUnavailable, match="503"):
        await keys.key_for(TENANT, _kid(authority))


async def test_an_unknown_kid_refreshes_at_most_once_per_interval(
    keys: SigningKeys, authority: FakeAuthority, clock: Clock
) -> None:
    await keys.key_for(TENANT, _kid(authority))
    authority.keys.append(LoopbackKey.generate())
    clock.now += 299  # the first fetch counts as the last refresh
    with pytest.raises(SignInUnavailable, match="kid"):
        await keys.key_for(TENANT, authority.keys[1].kid)

    clock.now += 1
    await keys.key_for(TENANT, authority.keys[1].kid)

    assert authority.requests == {"discovery": 1, "jwks": 2}


async def test_waiters_share_one_fetch_even_when_it_fails(
    keys: SigningKeys, authority: FakeAuthority
) -> None:
    authority.down = True

    outcomes = await asyncio.gather(
        *(keys.key_for(TENANT, _kid(authority)) for _ in range(10)), return_exceptions=True
    )

    assert all(isinstance(outcome, SignInUnavailable) for outcome in outcomes)
    assert authority.requests == {"discovery": 1}


@pytest.mark.parametrize(
    "discovery",
    [
        pytest.param({"issuer": f"{AUTHORITY}/common/v2.0", "jwks_uri": JWKS_URI}, id="another issuer"),
        pytest.param(
            {"issuer": ISSUER, "jwks_uri": JWKS_URI.replace("https", "http")}, id="plain http jwks_uri"
        ),
        pytest.param({"issuer": ISSUER, "jwks_uri": "file:///etc/keys"}, id="file jwks_uri"),
        pytest.param({"issuer": ISSUER}, id="no jwks_uri"),
    ],
)
async def test_a_tenant_whose_discovery_document_is_wrong_is_refused(
    keys: SigningKeys, authority: FakeAuthority, discovery: dict[str, Any]
) -> None:
    authority.discovery = discovery

    with pytest.raises(SignInUnavailable, match="discovery document"):
        await keys.key_for(TENANT, _kid(authority))
    assert authority.requests["jwks"] == 0


def _jwk(key: rsa.RSAPrivateKey, kid: str, **fields: str) -> dict[str, Any]:
    jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, **fields}


@pytest.mark.parametrize(
    ("kid", "jwk"),
    [
        pytest.param(
            "enc", lambda: _jwk(LoopbackKey.generate().private_key, "enc", use="enc"), id="encryption key"
        ),
        pytest.param(
            "rs512", lambda: _jwk(LoopbackKey.generate().private_key, "rs512", alg="RS512"), id="RS512 key"
        ),
        pytest.param(
            "small",
            lambda: _jwk(rsa.generate_private_key(public_exponent=65537, key_size=1024), "small"),  # noqa: S505
            id="1024-bit key",
        ),
        pytest.param(
            "ec", lambda: {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"}, id="EC key"
        ),
        pytest.param("broken", lambda: {"kty": "RSA", "kid": "broken", "n": "!!"}, id="malformed key"),
    ],
)
async def test_only_rsa_signature_keys_of_2048_bits_or_more_are_kept(
    keys: SigningKeys, authority: FakeAuthority, kid: str, jwk: Any
) -> None:
    authority.extra_jwks = [jwk()]

    await keys.key_for(TENANT, _kid(authority))
    with pytest.raises(SignInUnavailable, match="kid"):
        await keys.key_for(TENANT, kid)


async def test_a_slow_authority_times_out_into_a_refusal(clock: Clock) -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(10)
        return httpx.Response(200)

    async with httpx.AsyncClient(transport=httpx.MockTransport(hang)) as http:
        keys = SigningKeys(AUTHORITY, http, timeout_seconds=0.05, now=clock)
        with pytest.raises(SignInUnavailable, match="Timeout"):
            await keys.key_for(TENANT, "any")


async def test_an_oversized_document_is_refused(authority: FakeAuthority, keys: SigningKeys) -> None:
    authority.discovery = {"issuer": ISSUER, "jwks_uri": JWKS_URI, "padding": "x" * 300_000}

    with pytest.raises(SignInUnavailable, match="too large"):
        await keys.key_for(TENANT, _kid(authority))


async def test_a_fetch_abandoned_by_its_caller_leaves_the_next_caller_free_to_fetch(
    keys: SigningKeys, authority: FakeAuthority
) -> None:
    authority.gate = asyncio.Event()
    first = asyncio.create_task(keys.key_for(TENANT, _kid(authority)))
    await authority.arrived.wait()
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    authority.gate.set()

    key = await keys.key_for(TENANT, _kid(authority))

    assert key.key_size == 2048
    assert authority.requests == {"discovery": 2, "jwks": 1}


# --- strangers: tenants the service never saw --------------------------------------------------------


def _stranger(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


async def test_first_fetches_for_unknown_tenants_are_budgeted_then_refused_without_a_call(
    http: httpx.AsyncClient, authority: FakeAuthority, clock: Clock
) -> None:
    keys = SigningKeys(AUTHORITY, http, new_tenants_per_minute=5, now=clock)

    outcomes = []
    for n in range(8):
        try:
            await keys.key_for(_stranger(n), "kid")
        except SignInUnavailable as refused:
            outcomes.append("too many" if "too many new tenants" in refused.reason else "fetched")
    calls = sum(authority.requests.values())
    clock.now += 12  # a fifth of a minute: one more first fetch allowed
    with pytest.raises(SignInUnavailable, match="no signing keys"):
        await keys.key_for(_stranger(100), "kid")

    assert outcomes == ["fetched"] * 5 + ["too many"] * 3
    assert calls == 5, "a refused stranger costs no call out (each of the 5 got one discovery, refused)"


async def test_known_tenants_are_never_budgeted(
    http: httpx.AsyncClient, authority: FakeAuthority, clock: Clock
) -> None:
    keys = SigningKeys(AUTHORITY, http, new_tenants_per_minute=1, now=clock)
    keys.known({TENANT})
    with pytest.raises(SignInUnavailable):
        await keys.key_for(_stranger(1), "kid")  # spends the budget

    key = await keys.key_for(TENANT, _kid(authority))

    assert key is not None


async def test_a_failed_tenant_is_not_asked_again_within_the_refresh_interval(
    http: httpx.AsyncClient, authority: FakeAuthority, clock: Clock
) -> None:
    keys = SigningKeys(AUTHORITY, http, min_refresh_interval=300, now=clock)
    for _ in range(20):
        with pytest.raises(SignInUnavailable):
            await keys.key_for(_stranger(7), "kid")

    assert sum(authority.requests.values()) == 1


async def test_strangers_cannot_flush_the_keys_of_tenants_in_use(
    http: httpx.AsyncClient, authority: FakeAuthority, clock: Clock
) -> None:
    keys = SigningKeys(AUTHORITY, http, max_tenants=3, new_tenants_per_minute=100, now=clock)
    await keys.key_for(TENANT, _kid(authority))
    for n in range(10):
        with pytest.raises(SignInUnavailable):
            await keys.key_for(_stranger(n), "kid")
    fetched = authority.requests["jwks"]

    await keys.key_for(TENANT, _kid(authority))

    assert authority.requests["jwks"] == fetched, "TENANT's keys were kept"
