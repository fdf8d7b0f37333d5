"""The HTTP edge: authentication before anything runs, health and readiness, request ids, masking."""

from __future__ import annotations

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
from tests.support.ports import free_port
from tests.support.served import serve
from tests.support.server import ApiServer, api_settings, without_cost
from tests.support.world import world_on

REGISTER = """mutation { registerOrganization(input: {legalName: "Sneaky Ltd", country: "DE"}) {
  organization { id } userErrors { code } } }"""


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
    url = f"postgresql+asyncpg://nobody@127.0.0.1:{free_port()}/nothing"
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
    assert mutation.status_code == 405
    assert mutation.headers["Allow"] == "POST"
    assert mutation.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
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

    assert page.status_code == 406  # HTML is not an answer /graphql gives then
    assert page.json()["errors"][0]["extensions"]["code"] == "NOT_ACCEPTABLE"
    assert "graphiql" not in page.text.lower()


def test_answers_are_neither_sniffed_nor_stored(api_server: ApiServer, entra: RunningEntra) -> None:
    token = personas.user(entra, personas.Tenant()).token

    api_server.graphql("{ viewer { objectId } }", token=token)

    assert api_server.last_headers["X-Content-Type-Options"] == "nosniff"
    assert api_server.last_headers["Cache-Control"] == "no-store"


# GraphQL over HTTP (the GraphQL Foundation's spec; contract 6.2).

GRAPHQL_RESPONSE = "application/graphql-response+json"
BROKEN: dict[str, dict[str, Any]] = {
    "does not parse": {"query": "{ viewer { "},
    "does not validate": {"query": "{ noSuchField }"},
    "variables do not coerce": {
        "query": "query($year: Int!) { fiscalYearOf: currentFiscalYear }",
        "variables": {"year": "x"},
    },
}


def _post(api_server: ApiServer, token: str, body: dict[str, Any], accept: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    if accept is not None:
        headers["Accept"] = accept
    return api_server.http.post("/graphql", json=body, headers=headers)


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE};q=0.5", "application/json"),
        ("application/json", "application/json"),
        ("*/*", "application/json"),
        (None, "application/json"),
    ],
)
def test_the_answer_takes_the_media_type_the_client_prefers(
    api_server: ApiServer, entra: RunningEntra, accept: str | None, media: str
) -> None:
    token = personas.user(entra, Tenant()).token
    answer = _post(api_server, token, {"query": "{ currentFiscalYear }"}, accept)
    assert (answer.status_code, answer.headers["content-type"]) == (200, media)
    assert without_cost(answer.json()) == {"data": {"currentFiscalYear": 2027}}


@pytest.mark.parametrize("broken", list(BROKEN))
def test_a_request_error_is_400_without_data_as_graphql_response_and_200_as_json(
    api_server: ApiServer, entra: RunningEntra, broken: str
) -> None:
    token = personas.user(entra, Tenant()).token
    body = BROKEN[broken]
    as_graphql_response = _post(api_server, token, body, GRAPHQL_RESPONSE)
    as_json = _post(api_server, token, body, "application/json")
    assert (as_graphql_response.status_code, as_graphql_response.headers["content-type"]) == (
        400,
        GRAPHQL_RESPONSE,
    )
    assert (as_json.status_code, as_json.headers["content-type"]) == (200, "application/json")
    for answer in (as_graphql_response, as_json):
        assert "data" not in answer.json()
        assert answer.json()["errors"][0]["message"]


def test_a_field_error_with_data_stays_200_as_graphql_response(
    api_server: ApiServer, entra: RunningEntra
) -> None:
    """Execution began: the answer has `data` (here with a FORBIDDEN field as null), so 200."""
    token = personas.user(entra, Tenant()).token
    answer = _post(
        api_server, token, {"query": "{ currentFiscalYear organizations { totalCount } }"}, GRAPHQL_RESPONSE
    )
    assert answer.status_code == 200
    assert answer.json()["data"] == {"currentFiscalYear": 2027, "organizations": None}
    assert answer.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize(
    ("request_", "status", "code"),
    [
        (
            lambda http, bearer: http.put("/graphql", json={"query": "{ __typename }"}, headers=bearer),
            405,
            "METHOD_NOT_ALLOWED",
        ),
        (lambda http, bearer: http.delete("/graphql", headers=bearer), 405, "METHOD_NOT_ALLOWED"),
        (
            lambda http, bearer: http.post(
                "/graphql", content=b"{", headers={**bearer, "Content-Type": "application/json"}
            ),
            400,
            "BAD_REQUEST",
        ),
        (
            lambda http, bearer: http.post(
                "/graphql",
                content=b"query=x",
                headers={**bearer, "Content-Type": "application/x-www-form-urlencoded"},
            ),
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        (
            lambda http, bearer: http.post("/graphql", content=b"{ __typename }", headers=bearer),
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        (
            lambda http, bearer: http.post("/graphql", json={"variables": {}}, headers=bearer),
            400,
            "BAD_REQUEST",
        ),
        (lambda http, bearer: http.post("/graphql", json={"query": 1}, headers=bearer), 400, "BAD_REQUEST"),
        (lambda http, bearer: http.get("/graphql", headers=bearer), 400, "BAD_REQUEST"),
        (
            lambda http, bearer: http.get(
                "/graphql", params={"query": "{ __typename }"}, headers={**bearer, "Accept": "text/xml"}
            ),
            406,
            "NOT_ACCEPTABLE",
        ),
    ],
    ids=[
        "PUT",
        "DELETE",
        "malformed JSON",
        "form body",
        "no content type",
        "no query",
        "query not a string",
        "GET without query",
        "XML only",
    ],
)
def test_every_4xx_has_a_json_errors_body_with_a_code(
    api_server: ApiServer, entra: RunningEntra, request_: Any, status: int, code: str
) -> None:
    bearer = {"Authorization": f"Bearer {personas.user(entra, Tenant()).token}"}
    answer = request_(api_server.http, bearer)
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith("application/")
    assert answer.headers["content-type"].split(";")[0].endswith("json")
    (error,) = answer.json()["errors"]
    assert error["extensions"]["code"] == code
    assert error["message"]
    if status == 405:
        assert answer.headers["Allow"] == "GET, POST"
