"""The planned read's lane (api/read/lane.py) over HTTP, on SQLite and PostgreSQL: a query asked
again, which now has a plan, is answered past Strawberry's view with the same answer, status and
headers, its cost charged once, the dashboard in at most three statements sign-in included."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from api.media import GRAPHQL_RESPONSE, JSON
from tests.support import personas
from tests.support.configured_api import configured_api
from tests.support.entra import RunningEntra
from tests.support.personas import Tenant
from tests.support.server import TODAY, ApiServer, served_api
from tests.support.world import two_locations_one_enrolled

DASHBOARD = """{ viewer { organization { locations(first: 50) { edges { node { partnerId name
  enrollments(first: 5) { edges { node { status fiscalYear program { code name } } } } } } } } } }"""
FORBIDDEN_FIELD = "{ viewer { organization { paymentProfiles { name bankAccountLast4 } } } }"


@pytest.fixture
def api(entra: RunningEntra, database_url: str) -> Iterator[ApiServer]:
    with served_api(entra, database_url) as server:
        yield server


async def _contoso(api: ApiServer) -> tuple[str, str, str]:
    """An organization of two locations, one of them enrolled (so a payment profile exists): its
    tenant, its Global admin's object id, and an Incentives user's (who may not read bank details)."""
    user = personas.new_guid()
    tenant_id, admin_id = await two_locations_one_enrolled(api.database_url, TODAY.date(), user)
    return tenant_id, admin_id, user


def _ask(api: ApiServer, query: str, token: str, accept: str) -> tuple[int, str, dict[str, Any]]:
    response = api.http.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}", "Accept": accept}
    )
    return response.status_code, response.headers["content-type"], response.json()


def _without_remaining(body: dict[str, Any]) -> dict[str, Any]:
    """The answer without what the budget says: what remains, and when it is reset (the next
    minute, which two requests on either side of a minute's end see differently)."""
    cost = dict(body["extensions"]["cost"])
    del cost["remaining"], cost["resetAt"]
    return {**body, "extensions": {"cost": cost}}


@pytest.mark.parametrize("accept", [JSON, GRAPHQL_RESPONSE])
@pytest.mark.parametrize(
    ("query", "caller"),
    [(DASHBOARD, "admin"), (FORBIDDEN_FIELD, "user")],
    ids=["dashboard", "a forbidden field"],
)
async def test_a_query_asked_again_gets_the_same_answer_from_the_lane(
    api: ApiServer, entra: RunningEntra, accept: str, query: str, caller: str
) -> None:
    tenant_id, admin_id, user_id = await _contoso(api)
    if caller == "admin":
        token = personas.global_admin(entra, Tenant(tenant_id), object_id=admin_id).token
    else:
        token = personas.user(entra, Tenant(tenant_id), object_id=user_id).token

    first = _ask(api, query, token, accept)  # Strawberry's view answers, and the plan is made
    with api.statements() as statements:
        again = _ask(api, query, token, accept)  # the lane

    assert first[:2] == again[:2] == (200, accept)
    assert _without_remaining(first[2]) == _without_remaining(again[2])
    spent = first[2]["extensions"]["cost"]["remaining"] - again[2]["extensions"]["cost"]["remaining"]
    assert spent == again[2]["extensions"]["cost"]["requested"] > 0  # charged once
    if caller == "admin":
        locations = again[2]["data"]["viewer"]["organization"]["locations"]["edges"]
        assert [edge["node"]["name"] for edge in locations] == ["Stockholm", "Gothenburg"]
        assert len(statements) <= 3, statements
        if api.engine.dialect.name == "postgresql":  # the enrollments' pages built by PostgreSQL
            assert sum("json_agg" in statement for statement in statements.statements) == 1
    else:
        assert [error["extensions"]["code"] for error in again[2]["errors"]] == ["FORBIDDEN"]


async def test_the_lane_costs_each_request_by_its_own_page_sizes(api: ApiServer, entra: RunningEntra) -> None:
    # The lane remembers a plan's cost by the values it depends on, never another request's: each
    # cost equals the one Strawberry's view gives the same request sent as a new document.
    query = """query($first: Int, $ids: [ID!]!) {
      programs(first: $first) { edges { node { code } } } nodes(ids: $ids) { id } }"""
    token = personas.user(entra, Tenant()).token
    fresh = iter(range(1000))

    def requested(first: int | None, ids: int, *, new_document: bool = False) -> int:
        document = f"{query} # {next(fresh)}" if new_document else query
        variables = {"first": first, "ids": ["bm9wZQ"] * ids}
        response = api.http.post(
            "/graphql",
            json={"query": document, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
        body = response.json()
        assert "errors" not in body, body
        cost: int = body["extensions"]["cost"]["requested"]
        return cost

    requested(2, 1)  # the plan is made
    asked = [(2, 1), (7, 1), (2, 1), (None, 1), (2, 3), (7, 2), (2, 1)]
    by_lane = [requested(first, ids) for first, ids in asked]
    by_view = [requested(first, ids, new_document=True) for first, ids in asked]
    assert by_lane == by_view
    assert len(set(by_lane)) == 5


async def test_an_enrollment_with_its_program_and_location_is_one_statement(
    api: ApiServer, entra: RunningEntra
) -> None:
    tenant_id, admin_id, _ = await _contoso(api)
    token = personas.global_admin(entra, Tenant(tenant_id), object_id=admin_id).token
    dashboard = _ask(
        api,
        "{ viewer { organization { locations(first: 1) { edges { node {"
        " enrollments { edges { node { id } } } } } } } } }",
        token,
        JSON,
    )[2]
    locations = dashboard["data"]["viewer"]["organization"]["locations"]["edges"]
    enrollment_id = locations[0]["node"]["enrollments"]["edges"][0]["node"]["id"]
    query = """query($id: ID!) { node(id: $id) { ... on Enrollment { id status fiscalYear
      program { code name } location { partnerId name } } } }"""

    def ask() -> dict[str, Any]:
        response = api.http.post(
            "/graphql",
            json={"query": query, "variables": {"id": enrollment_id}},
            headers={"Authorization": f"Bearer {token}"},
        )
        body: dict[str, Any] = response.json()
        return body

    first = ask()
    with api.statements() as statements:
        again = ask()

    assert again["data"] == first["data"]
    assert again["data"]["node"]["location"]["name"] == "Stockholm"
    assert len(statements) == 1, statements


@pytest.mark.parametrize("extensions", ["x", 1, True, []], ids=["string", "number", "boolean", "array"])
async def test_a_malformed_request_of_a_planned_query_is_refused_as_before(
    api: ApiServer, entra: RunningEntra, extensions: object
) -> None:
    token = personas.user(entra, Tenant()).token
    query = "{ programs(first: 1) { edges { node { code } } } }"
    headers = {"Authorization": f"Bearer {token}"}
    assert api.http.post("/graphql", json={"query": query}, headers=headers).status_code == 200  # planned

    refused = api.http.post("/graphql", json={"query": query, "extensions": extensions}, headers=headers)

    assert refused.status_code == 400


def test_the_lane_refuses_what_is_over_the_cost_limit_or_the_budget_as_the_view_does(
    entra: RunningEntra, sqlite_url: str
) -> None:
    # A document planned at a small page size, then asked again over the limits: the lane must not
    # answer it. At first: 10 it costs 30 points (within 40); at first: 50, 150 (which the budget of
    # 200 could pay: only the limit refuses it); then the budget runs out.
    query = "query($first: Int) { programs(first: $first) { edges { node { code } } } }"
    settings = {"max_query_cost": 40, "rate_limit_points": 200}
    with configured_api(sqlite_url, authority=entra.base_url, **settings) as api:
        # The budget is a window per minute: a run that crosses into the next one is run again, by a
        # new caller (a fresh budget), as the plan stays made.
        for _ in range(3):
            token = personas.user(entra, Tenant()).token

            def ask(first: int, token: str = token) -> tuple[int, dict[str, Any]]:
                response = api.http.post(
                    "/graphql",
                    json={"query": query, "variables": {"first": first}},
                    headers={"Authorization": f"Bearer {token}"},
                )
                return response.status_code, response.json()

            planned = ask(10)  # 30 spent (the plan made, on the first run)
            too_costly = ask(50)  # refused, nothing spent
            again = [ask(10) for _ in range(6)]  # by the lane: 150 spent, then 20 left for a 30
            answers = [planned[1], too_costly[1], *(body for _, body in again)]
            if len({body["extensions"]["cost"]["resetAt"] for body in answers}) == 1:
                break

    assert planned[0] == 200
    assert planned[1]["extensions"]["cost"]["requested"] == 30
    assert too_costly[0] == 200
    assert [error["extensions"]["code"] for error in too_costly[1]["errors"]] == ["QUERY_TOO_COMPLEX"]
    assert too_costly[1]["extensions"]["cost"]["requested"] == 150
    assert too_costly[1]["extensions"]["cost"]["remaining"] == 170  # not charged
    assert [status for status, _ in again] == [200] * 5 + [429]
    assert [body["extensions"]["cost"]["remaining"] for _, body in again] == [140, 110, 80, 50, 20, 20]
    assert [error["extensions"]["code"] for error in again[-1][1]["errors"]] == ["THROTTLED"]
