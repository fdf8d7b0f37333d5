"""Every request's cost known before it runs (CONTRACT 6.3), tried as an attacker would.

Shape (depth, aliases, directives, root mutation fields) is refused at validation; cost (objects
the answer may hold, from `first`/`last` and `ids`) before execution; and each caller's budget of
points per minute with HTTP 429 and `Retry-After`, in process and shared through Redis.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest

from api.graphql.limits import MUTATION_COST, Limits
from tests.support import personas
from tests.support.configured_api import NOTHING_WRITTEN, configured_api, written_rows
from tests.support.entra import RunningEntra
from tests.support.in_process import InProcessApi
from tests.support.server import ApiServer

LIMITS = Limits()
REDIS = ("127.0.0.1", 6379)


def codes(reply: dict[str, Any]) -> list[str]:
    return [error.get("extensions", {}).get("code") for error in reply.get("errors", [])]


def refused(reply: dict[str, Any], containing: str) -> None:
    assert reply.get("data") is None, reply
    assert codes(reply) == ["QUERY_TOO_COMPLEX"], reply
    assert containing in reply["errors"][0]["message"], reply
    assert reply["extensions"]["cost"]["remaining"] >= 0, "every answer tells the caller's budget"


def nested(levels: int) -> str:
    """`viewer { organization { locations(first: 1) { edges { node { organization { ... } } } } } }`:
    each level is four fields deeper."""
    inner = "id"
    for _ in range(levels):
        inner = f"organization {{ locations(first: 1) {{ edges {{ node {{ {inner} }} }} }} }}"
    return f"{{ viewer {{ {inner} }} }}"


@pytest.fixture
def token(entra: RunningEntra) -> str:
    return personas.user(entra, personas.Tenant()).token


# --- shape --------------------------------------------------------------------------------------------


def test_depth_at_the_limit_runs_and_one_more_is_refused(api: InProcessApi, token: str) -> None:
    # Root fields are at depth 0: nested(2) ends at 9, nested(3) at 13.
    at_limit = nested(2).replace("{ id }", "{ organization { locations(first: 1) { edges { cursor } } } }")

    assert "errors" not in api.graphql(nested(2), token=token)
    assert "errors" not in api.graphql(at_limit, token=token), "depth 12 is allowed"
    refused(api.graphql(nested(3), token=token), "is 13 deep; the limit is 12")


def test_depth_counts_through_fragments(api: InProcessApi, token: str) -> None:
    query = """{ viewer { ...A } }
      fragment A on Viewer { organization { locations(first: 1) { edges { node { ...B } } } } }
      fragment B on Location { organization { locations(first: 1) { edges { node { ...C } } } } }
      fragment C on Location { organization { locations(first: 1) { edges { node { id } } } } }"""

    refused(api.graphql(query, token=token), "is 13 deep")


def test_more_aliases_than_the_limit_are_refused(api: InProcessApi, token: str) -> None:
    allowed = "{ " + " ".join(f"a{i}: viewer {{ objectId }}" for i in range(LIMITS.aliases)) + " }"
    over = "{ " + " ".join(f"a{i}: viewer {{ objectId }}" for i in range(LIMITS.aliases + 1)) + " }"

    assert "errors" not in api.graphql(allowed, token=token)
    refused(api.graphql(over, token=token), f"has {LIMITS.aliases + 1} aliases; the limit is 30")


def test_more_directives_than_the_limit_are_refused(api: InProcessApi, token: str) -> None:
    over = "{ viewer { " + "objectId @include(if: true) " * (LIMITS.directives + 1) + "} }"

    refused(api.graphql(over, token=token), f"has {LIMITS.directives + 1} directives")


def test_a_fragment_bomb_is_refused_without_walking_it(api: InProcessApi, token: str) -> None:
    # Each fragment spreads the one before twice: 2^40 fields if expanded. Walked per spread, this
    # would not finish; each fragment is walked once, and the aliases it would expand to refuse it.
    levels = 40
    fragments = ["fragment F0 on Viewer { a: objectId }"]
    fragments += [f"fragment F{i} on Viewer {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels)]
    query = f"{{ viewer {{ ...F{levels - 1} }} }} " + " ".join(fragments)

    refused(api.graphql(query, token=token), f"has {2 ** (levels - 1):,}".replace(",", "") + " aliases")


def test_a_fragment_bomb_without_aliases_is_refused_by_its_cost(api: InProcessApi, token: str) -> None:
    levels = 40
    fragments = ["fragment F0 on Viewer { organization { id } }"]
    fragments += [f"fragment F{i} on Viewer {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels)]
    query = f"{{ viewer {{ ...F{levels - 1} }} }} " + " ".join(fragments)

    reply = api.graphql(query, token=token)

    refused(reply, "the limit is 50,000")
    assert reply["extensions"]["cost"]["requested"] == 1 + 2 ** (levels - 1)


def test_more_root_mutation_fields_than_the_limit_are_refused_and_nothing_runs(
    entra: RunningEntra, sqlite_url: str
) -> None:
    admin = personas.global_admin(entra, personas.Tenant())
    register = 'registerOrganization(input: {legalName: "Org", country: "DE"}) { userErrors { code } }'
    fields = " ".join(f"r{i}: {register}" for i in range(LIMITS.root_mutation_fields + 1))
    with configured_api(sqlite_url, authority=entra.base_url) as api:
        reply = api.graphql(f"mutation {{ {fields} }}", token=admin.token)

    refused(reply, "has 5 root mutation fields; the limit is 4")
    assert written_rows(sqlite_url) == NOTHING_WRITTEN


# --- cost ---------------------------------------------------------------------------------------------


DASHBOARD = """{ viewer { organization { locations(first: 50) { edges { node { partnerId name
  enrollments(first: 5) { edges { node { status fiscalYear program { code name } } } } } } } } } }"""


def test_the_cost_counts_every_object_the_answer_may_hold(api: InProcessApi, token: str) -> None:
    reply = api.graphql(DASHBOARD, token=token)

    # viewer 1, organization 1, then 50 x (connection item 1 + edges 1 + node 1
    #   + 5 x (item 1 + edges 1 + node 1 + program 1))
    assert reply["extensions"]["cost"]["requested"] == 2 + 50 * (3 + 5 * 4)


def test_the_cost_follows_variables_defaults_and_ids(api: InProcessApi, token: str) -> None:
    paged = "query($n: Int) { programs(first: $n) { edges { node { code } } } }"
    by_ids = 'query { nodes(ids: ["a", "b", "c"]) { id } }'

    assert api.graphql(paged, {"n": 7}, token=token)["extensions"]["cost"]["requested"] == 7 * 3
    assert api.graphql(paged, token=token)["extensions"]["cost"]["requested"] == 20 * 3  # the default
    assert api.graphql(by_ids, token=token)["extensions"]["cost"]["requested"] == 3


def test_nested_connections_over_the_cost_limit_are_refused_before_any_sql(
    api: InProcessApi, token: str
) -> None:
    query = """{ viewer { organization { locations(first: 100) { edges { node {
      enrollments(first: 100) { edges { node { location {
        enrollments(first: 100) { edges { node { id } } } } } } }
    } } } } } }"""
    api.graphql("{ viewer { objectId } }", token=token)  # signed in once: the caller is remembered

    with api.statements() as log:
        reply = api.graphql(query, token=token)

    refused(reply, "the limit is 50,000")
    assert log.statements == []


def test_last_costs_what_first_costs(api: InProcessApi, token: str) -> None:
    forward = DASHBOARD
    backward = DASHBOARD.replace("first: 50", "last: 50").replace("first: 5", "last: 5")
    both = DASHBOARD.replace("first: 50", "first: 1, last: 50")  # refused at execution; costed the larger

    cost = [
        api.graphql(query, token=token)["extensions"]["cost"]["requested"]
        for query in (forward, backward, both)
    ]

    assert cost == [2 + 50 * (3 + 5 * 4)] * 3


def test_nested_last_over_the_cost_limit_is_refused_before_any_sql(api: InProcessApi, token: str) -> None:
    query = """query($n: Int) { viewer { organization { locations(last: 100) { edges { node {
      enrollments(last: $n) { edges { node { location {
        enrollments(last: 100, before: null) { edges { node { id } } } } } } }
    } } } } } }"""
    api.graphql("{ viewer { objectId } }", token=token)  # signed in once: the caller is remembered

    with api.statements() as log:
        reply = api.graphql(query, {"n": 100}, token=token)

    refused(reply, "the limit is 50,000")
    assert log.statements == []


def test_mutations_cost_more_than_reads(api: InProcessApi, entra: RunningEntra) -> None:
    admin = personas.global_admin(entra, personas.Tenant())
    reply = api.graphql(
        'mutation { registerOrganization(input: {legalName: "Costly Ltd", country: "DE"}) '
        "{ organization { id } } }",
        token=admin.token,
    )

    assert reply["extensions"]["cost"]["requested"] == MUTATION_COST + 2  # payload and organization


# --- budgets ------------------------------------------------------------------------------------------


PROGRAMS = "{ programs(first: 10) { edges { node { code } } } }"  # 30 points


def spend(api: ApiServer, token: str, times: int, windows: set[str] | None = None) -> list[int]:
    """The statuses of `times` requests; the budget windows they were counted in go to `windows`."""
    statuses = []
    for _ in range(times):
        reply = api.graphql(PROGRAMS, token=token)
        assert api.last_status is not None
        statuses.append(api.last_status)
        if windows is not None:
            windows.add(reply["extensions"]["cost"]["resetAt"])
    return statuses


def test_a_caller_past_its_budget_gets_429_and_others_do_not(entra: RunningEntra, sqlite_url: str) -> None:
    spender, other = (personas.user(entra, personas.Tenant()).token for _ in range(2))
    with configured_api(sqlite_url, authority=entra.base_url, rate_limit_points=100) as api:
        statuses = spend(api, spender, 3)
        remaining = api.graphql(PROGRAMS, token=other)["extensions"]["cost"]["remaining"]
        reply = api.graphql(PROGRAMS, token=spender)
        status, headers = api.last_status, api.last_headers

    assert statuses == [200, 200, 200]
    assert remaining == 70
    assert status == 429
    assert codes(reply) == ["THROTTLED"]
    assert 1 <= int(headers["Retry-After"]) <= 60
    assert reply["extensions"]["cost"] == {**reply["extensions"]["cost"], "requested": 30, "remaining": 10}


def redis_available() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_url() -> str:
    if not redis_available():
        pytest.skip(f"no Redis at {REDIS[0]}:{REDIS[1]}: the shared budgets are not tried")
    return f"redis://{REDIS[0]}:{REDIS[1]}/0"


def test_budgets_in_redis_are_shared_by_every_server(
    entra: RunningEntra, sqlite_url: str, redis_url: str
) -> None:
    settings = {"rate_limit_points": 100, "redis_url": redis_url}
    with (
        configured_api(sqlite_url, authority=entra.base_url, **settings) as first,
        configured_api(sqlite_url, authority=entra.base_url, **settings) as second,
    ):
        for _ in range(3):  # budgets are per minute: a run that crossed into the next is run again
            token, windows = personas.user(entra, personas.Tenant()).token, set[str]()
            statuses = [
                *spend(first, token, 2, windows),
                *spend(second, token, 2, windows),
                *spend(first, token, 1, windows),
            ]
            if len(windows) == 1:
                break

    assert len(windows) == 1
    assert statuses == [200, 200, 200, 429, 429]


def test_a_forbidden_root_mutation_field_stops_the_whole_request_before_any_runs(
    entra: RunningEntra, sqlite_url: str
) -> None:
    admin = personas.global_admin(entra, personas.Tenant())
    query = """mutation {
      first: registerOrganization(input: {legalName: "Allowed Ltd", country: "DE"}) { userErrors { code } }
      second: createProgram(input: {code: "NOPE", name: "Nope", criteria: []}) { userErrors { code } } }"""
    with configured_api(sqlite_url, authority=entra.base_url) as api:
        reply = api.graphql(query, token=admin.token)

    assert reply["data"] is None
    assert codes(reply) == ["FORBIDDEN"]
    assert reply["errors"][0]["path"] == ["second"]
    assert reply["errors"][0]["message"] == "Forbidden. Requires: operator."
    assert written_rows(sqlite_url) == NOTHING_WRITTEN
