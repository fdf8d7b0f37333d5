"""CORS for browsers on other origins (INCENTIVES_CORS_ALLOWED_ORIGINS): exact origins echoed, the
preflight allowing Authorization, Content-Type and W3C trace context (`traceparent`, exposed in
answers too), no credentials; the websocket's Origin checked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import ValidationError
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from api.settings import Settings
from tests.support import personas
from tests.support.configured_api import configured_api
from tests.support.entra import RunningEntra
from tests.support.live import TRANSPORT_WS, websocket_url
from tests.support.server import ApiServer

ALLOWED = "http://localhost:5173"
OTHER = "https://evil.example"


@pytest.fixture
def api(entra: RunningEntra, sqlite_url: str) -> Iterator[ApiServer]:
    with configured_api(
        sqlite_url, authority=entra.base_url, cors_allowed_origins=f"{ALLOWED},https://app.example"
    ) as server:
        yield server


def preflight(api: ApiServer, origin: str) -> dict[str, str]:
    response = api.http.options(
        "/graphql",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, traceparent",
        },
    )
    return {"status": str(response.status_code), **{k.lower(): v for k, v in response.headers.items()}}


def test_a_preflight_from_an_allowed_origin_is_answered_with_that_origin(api: ApiServer) -> None:
    answer = preflight(api, ALLOWED)

    assert answer["status"] == "200"
    assert answer["access-control-allow-origin"] == ALLOWED
    assert {h.strip().lower() for h in answer["access-control-allow-headers"].split(",")} >= {
        "authorization",
        "content-type",
        "traceparent",
        "tracestate",
    }
    assert "access-control-allow-credentials" not in answer


def test_a_preflight_from_another_origin_is_refused(api: ApiServer) -> None:
    answer = preflight(api, OTHER)

    assert answer["status"] == "400"
    assert "access-control-allow-origin" not in answer


def test_a_request_from_an_allowed_origin_gets_the_origin_echoed_never_a_wildcard(
    api: ApiServer, entra: RunningEntra
) -> None:
    token = personas.user(entra, personas.Tenant()).token

    api.graphql("{ viewer { objectId } }", token=token, headers={"Origin": ALLOWED})
    allowed = dict(api.last_headers)
    api.graphql("{ viewer { objectId } }", token=token, headers={"Origin": OTHER})
    other = dict(api.last_headers)

    assert allowed["access-control-allow-origin"] == ALLOWED
    exposed = {h.strip().lower() for h in allowed["access-control-expose-headers"].split(",")}
    assert {"x-request-id", "traceparent"} <= exposed
    assert "access-control-allow-origin" not in other


def test_a_post_gets_the_same_cors_and_request_headers_as_any_other_request(
    api: ApiServer, entra: RunningEntra
) -> None:
    # POSTs to /graphql take a shorter way through the app than other requests (api.app.App).
    token = personas.user(entra, personas.Tenant()).token
    bearer = {"Authorization": f"Bearer {token}", "X-Request-Id": "trace-7"}
    watched = ("access-control-allow-origin", "access-control-expose-headers", "vary", "x-request-id")
    for origin in (ALLOWED, OTHER, None):
        headers = {**bearer, **({"Origin": origin} if origin else {})}
        posted = api.http.post("/graphql", json={"query": "{ currentFiscalYear }"}, headers=headers)
        got = api.http.get("/graphql", params={"query": "{ currentFiscalYear }"}, headers=headers)

        assert posted.status_code == got.status_code == 200
        assert {k: posted.headers.get(k) for k in watched} == {k: got.headers.get(k) for k in watched}
        assert posted.headers["x-request-id"] == "trace-7"
        assert posted.headers["x-content-type-options"] == "nosniff"
        assert posted.headers["cache-control"] == "no-store"
        assert ("access-control-allow-origin" in posted.headers) is (origin == ALLOWED)


async def test_the_websocket_takes_allowed_origins_and_refuses_others(api: ApiServer) -> None:
    url = websocket_url(api.url)
    async with connect(url, subprotocols=[TRANSPORT_WS], origin=ALLOWED) as accepted:  # type: ignore[arg-type]
        assert accepted.subprotocol == TRANSPORT_WS
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url, subprotocols=[TRANSPORT_WS], origin=OTHER):  # type: ignore[arg-type]
            pass
    assert refused.value.response.status_code == 403


def test_a_wildcard_or_a_path_is_refused_at_start_up() -> None:
    for bad in ("*", "http://localhost:5173/app", "localhost:5173"):
        with pytest.raises(ValidationError):
            Settings.model_validate({"INCENTIVES_CORS_ALLOWED_ORIGINS": bad})
