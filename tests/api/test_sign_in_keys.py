"""Signing keys as the served API uses them: one fetch for a crowd, outages survived, background refresh."""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Callable
from typing import Any

import httpx

from api.app import UNAUTHENTICATED_BODY
from sandbox.entra import LoopbackEntra, new_tenant_id
from tests.support.configured_api import configured_api
from tests.support.entra import API_CLIENT_ID, RunningEntra
from tests.support.flaky_entra import served_flaky_entra
from tests.support.ports import free_port
from tests.support.server import ApiServer, without_cost

VIEWER = "{ viewer { tenantId } }"
WAIT = 10.0


def _mint(entra: LoopbackEntra, tenant_id: str, **options: Any) -> str:
    return entra.mint(tenant_id=tenant_id, object_id=new_tenant_id(), audience=API_CLIENT_ID, **options)


def _wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


async def test_fifty_concurrent_cold_requests_fetch_the_tenant_s_keys_once(
    api_server: ApiServer, entra: RunningEntra
) -> None:
    tenant_id = new_tenant_id()
    tokens = [_mint(entra.entra, tenant_id) for _ in range(50)]

    async with httpx.AsyncClient(base_url=api_server.url, timeout=WAIT, trust_env=False) as http:
        responses = await asyncio.gather(
            *(
                http.post("/graphql", json={"query": VIEWER}, headers={"Authorization": f"Bearer {t}"})
                for t in tokens
            )
        )

    assert {response.status_code for response in responses} == {200}
    assert entra.entra.request_count("discovery", tenant_id) == 1
    assert entra.entra.request_count("jwks", tenant_id) == 1


def test_an_unreachable_authority_at_first_use_gives_a_clear_401_and_the_server_keeps_serving(
    sqlite_url: str,
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    token = _mint(LoopbackEntra(issuer_base=nowhere), new_tenant_id())

    with configured_api(sqlite_url, authority=nowhere) as api:
        first = api.graphql(VIEWER, token=token)
        first_status = api.last_status
        again = api.graphql(VIEWER, token=token)
        health = api.http.get("/healthz")

    assert (first_status, first) == (401, UNAUTHENTICATED_BODY)
    assert (api.last_status, again) == (401, UNAUTHENTICATED_BODY)
    assert health.status_code == 200


def test_known_keys_keep_serving_while_the_keys_endpoint_answers_500(sqlite_url: str) -> None:
    tenant_id = new_tenant_id()
    with served_flaky_entra() as issuer, configured_api(sqlite_url, authority=issuer.base_url) as api:
        old = _mint(issuer, tenant_id)
        assert "errors" not in api.graphql(VIEWER, token=old)
        issuer.jwks_failure = "error"

        unknown = api.graphql(VIEWER, token=_mint(issuer, tenant_id, headers={"kid": "rolled-1"}))
        unknown_status = api.last_status
        still = api.graphql(VIEWER, token=old)

    assert (unknown_status, unknown) == (401, UNAUTHENTICATED_BODY)
    assert issuer.request_count("jwks", tenant_id) == 2
    assert (api.last_status, without_cost(still)) == (200, {"data": {"viewer": {"tenantId": tenant_id}}})


def test_known_keys_answer_at_once_while_a_refresh_hangs(sqlite_url: str) -> None:
    tenant_id = new_tenant_id()
    with (
        served_flaky_entra() as issuer,
        configured_api(sqlite_url, authority=issuer.base_url) as api,
        concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool,
        httpx.Client(base_url=api.url, timeout=WAIT, trust_env=False) as other_client,
    ):
        old = _mint(issuer, tenant_id)
        assert "errors" not in api.graphql(VIEWER, token=old)
        issuer.jwks_failure = "hang"
        unknown = _mint(issuer, tenant_id, headers={"kid": "rolled-2"})
        waiting = pool.submit(
            other_client.post,
            "/graphql",
            json={"query": VIEWER},
            headers={"Authorization": f"Bearer {unknown}"},
        )
        _wait_until(lambda: issuer.request_count("jwks", tenant_id) == 2)

        started = time.monotonic()
        still = api.graphql(VIEWER, token=old)
        elapsed = time.monotonic() - started
        issuer.release_hanging_requests()
        refused = waiting.result(timeout=WAIT)

    assert (api.last_status, without_cost(still)) == (200, {"data": {"viewer": {"tenantId": tenant_id}}})
    assert elapsed < 1.0
    assert refused.status_code == 401


def test_the_app_refreshes_the_keys_of_tenants_in_use_in_the_background_until_shutdown(
    sqlite_url: str,
) -> None:
    tenant_id = new_tenant_id()
    with served_flaky_entra() as issuer:
        with configured_api(sqlite_url, authority=issuer.base_url, key_background_refresh=0.2) as api:
            assert "errors" not in api.graphql(VIEWER, token=_mint(issuer, tenant_id))
            _wait_until(lambda: issuer.request_count("jwks", tenant_id) >= 3)
        after_shutdown = issuer.request_count("jwks", tenant_id)
        time.sleep(0.5)

        assert issuer.request_count("jwks", tenant_id) == after_shutdown
