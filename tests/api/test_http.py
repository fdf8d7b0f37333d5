"""The HTTP edge: authentication before anything runs, health and readiness, request ids, masking."""

from __future__ import annotations

import socket
from datetime import timedelta
from typing import Any

import httpx
import pytest

import domain.queries.entities
from api.app import UNAUTHENTICATED_BODY, create_app
from auth.principal import GLOBAL_ADMINISTRATOR_WID
from tests.support import personas
from tests.support.configured_api import configured_api
from tests.support.entra import RunningEntra
from tests.support.personas import Tenant
from tests.support.served import serve
from tests.support.server import ApiServer, api_settings, without_cost
from tests.support.world import world_on

REGISTER = """mutation { registerOrganization(input: {legalName: "Sneaky Ltd", country: "DE"}) {
  organization { id } userErrors { code } } }"""


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer not-a-token", "Basic dXNlcjpwYXNz", "Bearer"],
    ids=["no header", "garbage", "basic", "empty bearer"],
)
def test_a_request_without_an_acceptable_token_gets_401_and_runs_nothing(
    api_server: ApiServer, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    with api_server.statements() as log:
        body = api_server.graphql(REGISTER, headers=headers)
    assert api_server.last_status == 401
    assert body == UNAUTHENTICATED_BODY
    assert api_server.last_headers["WWW-Authenticate"] == "Bearer"
    assert len(log) == 0


def test_an_expired_token_gets_401_and_the_mutation_is_not_executed(
    api_server: ApiServer, entra: RunningEntra
) -> None:
    tenant = Tenant()
    expired = entra.mint(
        tenant_id=tenant.id,
        object_id=personas.new_guid(),
        wids=[GLOBAL_ADMINISTRATOR_WID],
        lifetime=timedelta(minutes=-30),
    )
    body = api_server.graphql(REGISTER, token=expired)
    assert api_server.last_status == 401
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    valid = personas.global_admin(entra, tenant)
    viewer = api_server.graphql("{ viewer { organization { id } } }", token=valid.token)
    assert without_cost(viewer) == {"data": {"viewer": {"organization": None}}}


def test_healthz_answers_ok_without_a_token(api_server: ApiServer) -> None:
    response = api_server.http.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readyz_answers_200_when_the_database_answers(api_server: ApiServer) -> None:
    assert api_server.http.get("/readyz").status_code == 200


def test_readyz_answers_503_when_the_database_is_gone(entra: RunningEntra) -> None:
    url = f"postgresql+asyncpg://nobody@127.0.0.1:{_closed_port()}/nothing"
    with serve(create_app(api_settings(entra, url))) as base, httpx.Client(base_url=base) as http:
        assert http.get("/healthz").status_code == 200
        assert http.get("/readyz").status_code == 503


def test_every_response_carries_a_request_id_echoing_a_sane_incoming_one(api_server: ApiServer) -> None:
    echoed = api_server.http.get("/healthz", headers={"X-Request-Id": "trace-42.a:b"})
    replaced = api_server.http.get("/healthz", headers={"X-Request-Id": "bad id\twith spaces"})
    refused = api_server.http.post("/graphql", json={"query": "{ viewer { objectId } }"})
    assert echoed.headers["X-Request-Id"] == "trace-42.a:b"
    assert replaced.headers["X-Request-Id"] not in ("", "bad id\twith spaces")
    assert len(refused.headers["X-Request-Id"]) == 36


def test_a_query_over_get_needs_a_token_and_mutations_are_never_run_over_get(
    api_server: ApiServer, entra: RunningEntra
) -> None:
    admin = personas.global_admin(entra, Tenant())
    bearer = {"Authorization": f"Bearer {admin.token}"}
    anonymous = api_server.http.get("/graphql", params={"query": "{ currentFiscalYear }"})
    signed_in = api_server.http.get("/graphql", params={"query": "{ currentFiscalYear }"}, headers=bearer)
    mutation = api_server.http.get("/graphql", params={"query": REGISTER}, headers=bearer)
    assert anonymous.status_code == 401
    assert without_cost(signed_in.json()) == {"data": {"currentFiscalYear": 2027}}
    assert mutation.status_code == 400
    after = api_server.graphql("{ viewer { organization { id } } }", token=admin.token)
    assert without_cost(after) == {"data": {"viewer": {"organization": None}}}


async def test_an_unexpected_failure_is_masked_without_sql_or_paths_and_logged_with_the_request_id(
    api_server: ApiServer,
    entra: RunningEntra,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with world_on(api_server.database_url) as world:
        await world.program()

    async def broken(*args: Any) -> Any:
        raise RuntimeError('SELECT secret FROM "program_criteria" -- /srv/incentives/domain/queries.py')

    monkeypatch.setattr(domain.queries.entities, "criteria_by_program", broken)
    user = personas.user(entra, Tenant())
    response = api_server.http.post(
        "/graphql",
        json={"query": "{ programs { edges { node { code criteria } } } }"},
        headers={"Authorization": f"Bearer {user.token}", "X-Request-Id": "masked-1"},
    )
    assert response.status_code == 200
    errors = response.json()["errors"]
    assert [error["message"] for error in errors] == ["Unexpected error."]
    assert errors[0]["path"] == ["programs", "edges", 0, "node", "criteria"]
    assert "SELECT" not in response.text
    assert "/srv" not in response.text
    assert "Traceback" not in response.text
    logged = [record for record in caplog.records if record.name == "incentives.graphql"]
    assert [getattr(record, "request_id", None) for record in logged] == ["masked-1"]
    assert logged[0].exc_info is not None
    assert "program_criteria" in str(logged[0].exc_info[1])


def test_graphiql_where_enabled_is_served_to_a_browser_without_a_token_and_keeps_no_headers(
    entra: RunningEntra, sqlite_url: str
) -> None:
    with configured_api(sqlite_url, authority=entra.base_url, graphiql=True) as api:
        page = api.http.get("/graphql", headers={"Accept": "text/html"})

    assert page.status_code == 200
    assert "graphiql" in page.text.lower()
    assert "shouldPersistHeaders: false" in page.text
    assert "shouldPersistHeaders: true" not in page.text, "a pasted token would stay in localStorage"


def test_graphiql_is_off_unless_enabled(api_server: ApiServer) -> None:
    page = api_server.http.get("/graphql", headers={"Accept": "text/html"})

    assert page.status_code == 401
    assert "graphiql" not in page.text.lower()


def test_answers_are_neither_sniffed_nor_stored(api_server: ApiServer, entra: RunningEntra) -> None:
    token = personas.user(entra, personas.Tenant()).token

    api_server.graphql("{ viewer { objectId } }", token=token)

    assert api_server.last_headers["X-Content-Type-Options"] == "nosniff"
    assert api_server.last_headers["Cache-Control"] == "no-store"
