"""Signing-key rollover as Microsoft documents it, against a loopback issuer, on a fake clock.

The fake clock drives only the key cache (freshness, refresh throttling, staleness); the tokens
themselves are minted and checked in real time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest

from auth.errors import Unauthenticated
from auth.keys import SigningKeys
from auth.tokens import TokenValidator
from sandbox.entra import new_tenant_id
from tests.support.entra import API_CLIENT_ID, token_rules
from tests.support.flaky_entra import FlakyEntra, served_flaky_entra

MINUTE = 60.0
HOUR = 3600.0
REFRESH_INTERVAL = 5 * MINUTE
FETCH_TIMEOUT = 0.5


class FakeClock:
    def __init__(self) -> None:
        self.now = 10_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def issuer() -> Iterator[FlakyEntra]:
    with served_flaky_entra() as entra:
        yield entra


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def keys(issuer: FlakyEntra, clock: FakeClock) -> AsyncIterator[SigningKeys]:
    async with httpx.AsyncClient(trust_env=False) as http:
        yield SigningKeys(
            issuer.base_url,
            http,
            min_refresh_interval=REFRESH_INTERVAL,
            timeout_seconds=FETCH_TIMEOUT,
            now=clock,
        )


@pytest.fixture
def validator(issuer: FlakyEntra, keys: SigningKeys) -> TokenValidator:
    return TokenValidator(token_rules(issuer), keys)


@pytest.fixture
def tenant_id() -> str:
    return new_tenant_id()


def _token(issuer: FlakyEntra, tenant_id: str) -> list[str]:
    token = issuer.mint(tenant_id=tenant_id, object_id=new_tenant_id(), audience=API_CLIENT_ID)
    return [f"Bearer {token}"]


def _fetches(issuer: FlakyEntra, tenant_id: str) -> tuple[int, int]:
    """(discovery, jwks) requests served for the tenant so far."""
    return issuer.request_count("discovery", tenant_id), issuer.request_count("jwks", tenant_id)


async def test_a_token_signed_by_a_newly_published_key_is_accepted_after_exactly_one_fetch(
    issuer: FlakyEntra, validator: TokenValidator, clock: FakeClock, tenant_id: str
) -> None:
    await validator.validate(_token(issuer, tenant_id))
    clock.advance(10 * MINUTE)
    issuer.rotate_key()

    identity = await validator.validate(_token(issuer, tenant_id))

    assert identity.tenant_id == tenant_id
    assert _fetches(issuer, tenant_id) == (1, 2)


async def test_a_second_unknown_kid_within_the_interval_makes_no_fetch(
    issuer: FlakyEntra, validator: TokenValidator, clock: FakeClock, tenant_id: str
) -> None:
    await validator.validate(_token(issuer, tenant_id))
    clock.advance(10 * MINUTE)
    issuer.rotate_key()
    await validator.validate(_token(issuer, tenant_id))
    issuer.rotate_key()
    clock.advance(REFRESH_INTERVAL - 1)

    with pytest.raises(Unauthenticated, match="kid"):
        await validator.validate(_token(issuer, tenant_id))
    assert _fetches(issuer, tenant_id) == (1, 2)

    clock.advance(1)
    await validator.validate(_token(issuer, tenant_id))
    assert _fetches(issuer, tenant_id) == (1, 3)


async def test_fifty_concurrent_cold_requests_cause_one_fetch(
    issuer: FlakyEntra, validator: TokenValidator, tenant_id: str
) -> None:
    tokens = [_token(issuer, tenant_id) for _ in range(50)]

    identities = await asyncio.gather(*(validator.validate(token) for token in tokens))

    assert len({identity.object_id for identity in identities}) == 50
    assert _fetches(issuer, tenant_id) == (1, 1)


async def test_old_tokens_are_accepted_for_a_day_while_the_keys_endpoint_answers_500(
    issuer: FlakyEntra,
    validator: TokenValidator,
    clock: FakeClock,
    tenant_id: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    old = _token(issuer, tenant_id)
    await validator.validate(old)
    issuer.jwks_failure = "error"
    clock.advance(2 * HOUR)

    identity = await validator.validate(old)

    assert identity.tenant_id == tenant_id
    assert _fetches(issuer, tenant_id) == (2, 2)
    assert "answered 500" in caplog.text
    clock.advance(22 * HOUR + 1)
    with pytest.raises(Unauthenticated, match="no signing keys"):
        await validator.validate(old)


async def test_old_tokens_are_accepted_while_the_keys_endpoint_hangs_and_only_one_request_waits(
    issuer: FlakyEntra, validator: TokenValidator, clock: FakeClock, tenant_id: str
) -> None:
    old = _token(issuer, tenant_id)
    await validator.validate(old)
    issuer.jwks_failure = "hang"
    clock.advance(2 * HOUR)
    started = time.monotonic()

    identities = await asyncio.gather(*(validator.validate(old) for _ in range(10)))

    assert {identity.tenant_id for identity in identities} == {tenant_id}
    assert time.monotonic() - started < FETCH_TIMEOUT + 2
    assert _fetches(issuer, tenant_id) == (2, 2)


async def test_the_background_refresh_publishes_a_new_key_before_any_token_needs_it(
    issuer: FlakyEntra, keys: SigningKeys, validator: TokenValidator, clock: FakeClock, tenant_id: str
) -> None:
    await validator.validate(_token(issuer, tenant_id))
    clock.advance(55 * MINUTE)
    issuer.rotate_key()

    await keys.refresh_in_use()
    await validator.validate(_token(issuer, tenant_id))

    assert _fetches(issuer, tenant_id) == (1, 2)


async def test_the_background_refresh_forgets_tenants_unused_for_a_day(
    issuer: FlakyEntra, keys: SigningKeys, validator: TokenValidator, clock: FakeClock, tenant_id: str
) -> None:
    await validator.validate(_token(issuer, tenant_id))
    clock.advance(24 * HOUR + 1)

    await keys.refresh_in_use()

    assert _fetches(issuer, tenant_id) == (1, 1)


async def test_a_failed_background_refresh_keeps_the_last_good_keys(
    issuer: FlakyEntra, keys: SigningKeys, validator: TokenValidator, clock: FakeClock, tenant_id: str
) -> None:
    old = _token(issuer, tenant_id)
    await validator.validate(old)
    issuer.jwks_failure = "error"
    clock.advance(55 * MINUTE)

    await keys.refresh_in_use()

    assert (await validator.validate(old)).tenant_id == tenant_id
    assert _fetches(issuer, tenant_id) == (1, 2)


# --- tokens remembered as accepted ------------------------------------------------------------------


async def test_a_remembered_token_is_refused_once_a_refresh_retires_its_key(
    issuer: FlakyEntra, keys: SigningKeys, validator: TokenValidator, clock: FakeClock, tenant_id: str
) -> None:
    old = _token(issuer, tenant_id)
    await validator.validate(old)
    await validator.validate(old)  # now answered from memory
    issuer.rotate_key(retire_old=True)
    clock.advance(55 * MINUTE)

    await keys.refresh_in_use()

    with pytest.raises(Unauthenticated, match="kid"):
        await validator.validate(old)
    assert (await validator.validate(_token(issuer, tenant_id))).tenant_id == tenant_id


async def test_a_remembered_token_still_expires(
    issuer: FlakyEntra, keys: SigningKeys, tenant_id: str
) -> None:
    rules = replace(token_rules(issuer), clock_skew_seconds=0)
    now = FakeClock()
    now.now = time.time()
    validator = TokenValidator(rules, keys, now=now)
    token = issuer.mint(
        tenant_id=tenant_id, object_id=new_tenant_id(), audience=API_CLIENT_ID, lifetime=timedelta(seconds=2)
    )
    await validator.validate([f"Bearer {token}"])
    assert (await validator.validate([f"Bearer {token}"])).tenant_id == tenant_id

    now.advance(2.5)  # past exp for the memory; PyJWT's own clock then refuses it in real time
    await asyncio.sleep(max(0.0, now.now - time.time()))

    with pytest.raises(Unauthenticated, match="ExpiredSignature"):
        await validator.validate([f"Bearer {token}"])


async def test_a_forged_copy_of_a_remembered_token_is_still_refused(
    issuer: FlakyEntra, validator: TokenValidator, tenant_id: str
) -> None:
    [bearer] = _token(issuer, tenant_id)
    await validator.validate([bearer])
    header, payload, signature = bearer.removeprefix("Bearer ").split(".")
    forged = f"Bearer {header}.{payload}.{signature[:-4]}AAAA"

    with pytest.raises(Unauthenticated, match=r"InvalidSignature|DecodeError"):
        await validator.validate([forged])
