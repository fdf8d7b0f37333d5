"""The planned read's lane (api/read/lane.py) and Strawberry's view answer every refusal and failure
alike: the same request, asked of a document that has a plan (the lane takes it) and of the same
text with a comment added (a new document: Strawberry's view takes it, as it does the first request
of any document), gets the same status, Retry-After, body and log lines, on SQLite and PostgreSQL.
Each request is admitted once (costed, refused or charged), by whichever path took it first.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from adapters.budgets import Charge, InProcessBudgets
from api import logs
from api.graphql.admission import ADMITTED
from api.graphql.types import base as declared_types
from api.media import GRAPHQL_RESPONSE, JSON
from api.read.engine import Run
from api.read.lane import Lane
from tests.support import personas
from tests.support.configured_api import configured_api
from tests.support.databases import run_async
from tests.support.entra import RunningEntra
from tests.support.server import ApiServer
from tests.support.world import world_on

PROGRAMS = "query($first: Int) { programs(first: $first) { edges { node { code } } } }"  # 3 x first
# A nullable field (a failure of a non-null one spreads, and the planned read leaves it to graphql-core).
TAX = "{ viewer { organization { locations(first: 2) { edges { node { name taxProfile { taxId } } } } } } }"
LANE, LANE_THEN_VIEW, VIEW = "the lane", "admitted by the lane, shown by the view", "the view"
STOPPED_IN_LANE = "stopped in the lane"


@dataclass(frozen=True)
class Seen:
    """What one request got, and how it was served."""

    status: int
    content_type: str
    retry_after: int | None
    body: dict[str, Any]
    logged: list[tuple[str, str, str, str | None, bool]]  # logger, level, message, exception, id given
    path: str
    charges: int  # calls to the caller's budget
    request_id: str


@dataclass
class Watch:
    """Which path took each request, how often it asked the budgets, and what it logged, by request id."""

    paths: dict[str, str] = field(default_factory=dict)
    charges: Counter[str] = field(default_factory=Counter)
    records: list[tuple[logging.LogRecord, str | None]] = field(default_factory=list)


class _ByRequest(logging.Handler):
    def __init__(self, watch: Watch) -> None:
        super().__init__(logging.WARNING)
        self._watch = watch

    def emit(self, record: logging.LogRecord) -> None:
        self._watch.records.append((record, logs.request_id.get()))


@pytest.fixture
def watch(monkeypatch: pytest.MonkeyPatch) -> Iterator[Watch]:
    watch = Watch()
    answer, charge = Lane.answer, InProcessBudgets.charge

    async def lane_answer(
        self: Lane, request: Any, body: Any, principal: Any, services: Any, unconfirmed: Any = None
    ) -> bytes | None:
        watch.paths[request.state.request_id] = STOPPED_IN_LANE
        answered = await answer(self, request, body, principal, services, unconfirmed)
        admitted = getattr(request.state, ADMITTED, None) is not None
        watch.paths[request.state.request_id] = (
            LANE if answered is not None else LANE_THEN_VIEW if admitted else VIEW
        )
        return answered

    async def budget_charge(self: InProcessBudgets, caller: str, points: int) -> Charge:
        watch.charges[logs.request_id.get() or ""] += 1
        return await charge(self, caller, points)

    monkeypatch.setattr(Lane, "answer", lane_answer)
    monkeypatch.setattr(InProcessBudgets, "charge", budget_charge)
    handler = _ByRequest(watch)
    logging.getLogger("incentives").addHandler(handler)
    try:
        yield watch
    finally:
        logging.getLogger("incentives").removeHandler(handler)


_ids = itertools.count()


def ask(
    api: ApiServer,
    watch: Watch,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str,
    accept: str = JSON,
) -> Seen:
    request_id = f"agree-{next(_ids)}"
    response = api.http.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {token}", "Accept": accept, "X-Request-Id": request_id},
    )
    logged = [
        (
            record.name,
            record.levelname,
            record.getMessage(),
            None if record.exc_info is None else type(record.exc_info[1]).__name__,
            getattr(record, "request_id", request_id) == request_id,
        )
        for record, during in watch.records
        if during == request_id
    ]
    retry_after = response.headers.get("Retry-After")
    return Seen(
        status=response.status_code,
        content_type=response.headers["content-type"],
        retry_after=None if retry_after is None else int(retry_after),
        body=response.json() if "json" in response.headers["content-type"] else {"text": response.text},
        logged=logged,
        path=watch.paths.get(request_id, VIEW),
        charges=watch.charges[request_id],
        request_id=request_id,
    )


_fresh = itertools.count()


def fresh(query: str) -> str:
    """The same operation as a document no request has asked before: Strawberry's view answers it."""
    return f"{query}\n# {next(_fresh)}"


def newcomer(entra: RunningEntra) -> str:
    """A caller with a full budget."""
    return personas.user(entra, personas.Tenant()).token


def assert_alike(lane: Seen, view: Seen) -> None:
    """The same answer by both paths (`resetAt` aside, the clock's; Retry-After within a second)."""
    assert (lane.path, view.path) in {(LANE, VIEW), (LANE_THEN_VIEW, VIEW)}, (lane.path, view.path)
    assert (lane.status, lane.content_type) == (view.status, view.content_type)
    assert _timeless(lane.body) == _timeless(view.body), (lane.body, view.body)
    assert "cost" in lane.body["extensions"], "extensions.cost on every answer"
    if view.retry_after is None:
        assert lane.retry_after is None
    else:
        assert lane.retry_after is not None
        assert abs(lane.retry_after - view.retry_after) <= 1
    assert lane.logged == view.logged
    assert lane.charges == view.charges == 1, "admitted and charged once"


def _timeless(body: dict[str, Any]) -> dict[str, Any]:
    cost = {
        key: value for key, value in body.get("extensions", {}).get("cost", {}).items() if key != "resetAt"
    }
    return {**body, "extensions": {**body.get("extensions", {}), "cost": cost}}


@pytest.fixture
def api(entra: RunningEntra, database_url: str) -> Iterator[ApiServer]:
    with configured_api(
        database_url, authority=entra.base_url, max_query_cost=40, rate_limit_points=100, request_timeout=1.0
    ) as server:
        yield server


def _members(api: ApiServer, entra: RunningEntra) -> Callable[[], str]:
    """An organization of two locations; a new Global admin of its tenant (a full budget) per call."""

    async def organization() -> str:
        async with world_on(api.database_url) as world:
            org = await world.organization()
            await world.location(org, "Stockholm")
            await world.location(org, "Gothenburg")
            return org.tenant_id

    tenant = personas.Tenant(run_async(organization))
    return lambda: personas.global_admin(entra, tenant).token


# --- refused before anything runs -----------------------------------------------------------------------


@pytest.mark.parametrize("accept", [JSON, GRAPHQL_RESPONSE])
def test_a_request_over_the_cost_limit_is_refused_alike(
    api: ApiServer, entra: RunningEntra, watch: Watch, accept: str
) -> None:
    ask(api, watch, PROGRAMS, {"first": 10}, token=newcomer(entra))  # 30 points: planned

    lane = ask(api, watch, PROGRAMS, {"first": 50}, token=newcomer(entra), accept=accept)
    view = ask(api, watch, fresh(PROGRAMS), {"first": 50}, token=newcomer(entra), accept=accept)

    assert_alike(lane, view)
    assert lane.status == (400 if accept == GRAPHQL_RESPONSE else 200)
    assert [error["extensions"]["code"] for error in lane.body["errors"]] == ["QUERY_TOO_COMPLEX"]
    assert "data" not in lane.body
    assert lane.body["extensions"]["cost"] == {
        **lane.body["extensions"]["cost"],
        "requested": 150,
        "remaining": 100,
    }


def test_a_caller_past_its_budget_is_throttled_alike(
    api: ApiServer, entra: RunningEntra, watch: Watch
) -> None:
    ask(api, watch, PROGRAMS, {"first": 10}, token=newcomer(entra))  # planned
    for _ in range(3):  # a window per minute: a run that crosses into the next is run again
        by_lane, by_view = newcomer(entra), newcomer(entra)
        for _ in range(3):  # 90 of 100 points spent
            assert ask(api, watch, PROGRAMS, {"first": 10}, token=by_lane).path == LANE
            assert ask(api, watch, fresh(PROGRAMS), {"first": 10}, token=by_view).status == 200
        lane = ask(api, watch, PROGRAMS, {"first": 10}, token=by_lane)
        view = ask(api, watch, fresh(PROGRAMS), {"first": 10}, token=by_view)
        if lane.body["extensions"]["cost"]["resetAt"] == view.body["extensions"]["cost"]["resetAt"]:
            break

    assert_alike(lane, view)
    assert lane.body == view.body  # the same window: the same words, to the second
    assert lane.status == 429
    assert lane.retry_after is not None
    assert 1 <= lane.retry_after <= 60
    assert [error["extensions"]["code"] for error in lane.body["errors"]] == ["THROTTLED"]
    assert lane.body["extensions"]["cost"] == {
        **lane.body["extensions"]["cost"],
        "requested": 30,
        "remaining": 10,
    }


def test_introspection_in_a_planned_document_is_refused_to_a_stranger_alike(
    api: ApiServer, entra: RunningEntra, watch: Watch, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A plan is kept for a document whose read failed before it came to `__type` (here the database
    # was away for an operator's request): the lane must refuse a stranger its introspection as the
    # view does, not admit it for the view to answer.
    query = '{ programs(first: 1) { edges { node { code } } } __type(name: "Query") { name } }'
    with monkeypatch.context() as away:
        away.setattr(Run, "execute", _unreachable)
        planned = ask(api, watch, query, token=personas.operator(entra).token)
    assert planned.status == 503

    lane = ask(api, watch, query, token=newcomer(entra))
    view = ask(api, watch, fresh(query), token=newcomer(entra))

    assert_alike(lane, view)
    assert lane.body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "Introspection" in lane.body["errors"][0]["message"]


def test_bad_variables_of_a_planned_document_are_told_alike(
    api: ApiServer, entra: RunningEntra, watch: Watch
) -> None:
    ask(api, watch, PROGRAMS, {"first": 10}, token=newcomer(entra))

    lane = ask(api, watch, PROGRAMS, {"first": "ten"}, token=newcomer(entra))
    view = ask(api, watch, fresh(PROGRAMS), {"first": "ten"}, token=newcomer(entra))

    assert lane.path == view.path == VIEW, "the lane leaves the client's mistakes to the view"
    assert (lane.status, lane.body, lane.logged) == (view.status, view.body, view.logged)
    assert [error["extensions"]["code"] for error in lane.body["errors"]] == ["BAD_USER_INPUT"]
    assert lane.logged == []


# --- failures while reading -----------------------------------------------------------------------------


@pytest.mark.parametrize("accept", [JSON, GRAPHQL_RESPONSE])
def test_an_unexpected_failure_of_a_field_is_masked_and_logged_alike(
    api: ApiServer, entra: RunningEntra, watch: Watch, monkeypatch: pytest.MonkeyPatch, accept: str
) -> None:
    member = _members(api, entra)

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError('SELECT secret FROM "tax_profiles"')

    monkeypatch.setattr(declared_types, "rows_by_parent", broken)  # the tax profile's read
    ask(api, watch, TAX, token=member())  # planned, its answer with the masked errors

    lane = ask(api, watch, TAX, token=member(), accept=accept)
    view = ask(api, watch, fresh(TAX), token=member(), accept=accept)

    assert_alike(lane, view)
    assert lane.path == LANE_THEN_VIEW, "read again by the view, which masks and logs"
    assert lane.status == 200
    edges = lane.body["data"]["viewer"]["organization"]["locations"]["edges"]
    assert [edge["node"] for edge in edges] == [
        {"name": "Stockholm", "taxProfile": None},
        {"name": "Gothenburg", "taxProfile": None},
    ]
    assert lane.body["errors"] == [
        {
            "message": "Unexpected error.",
            "locations": [{"line": 1, "column": TAX.index("taxProfile") + 1}],
            "path": ["viewer", "organization", "locations", "edges", index, "node", "taxProfile"],
        }
        for index in (0, 1)
    ]
    message = "unexpected error at viewer.organization.locations.edges.{}.node.taxProfile"
    assert lane.logged == [
        ("incentives.graphql", "ERROR", message.format(index), "RuntimeError", True) for index in (0, 1)
    ]


@pytest.mark.parametrize("accept", [JSON, GRAPHQL_RESPONSE])
def test_an_unexpected_failure_of_the_whole_read_is_masked_and_logged_alike(
    api: ApiServer, entra: RunningEntra, watch: Watch, monkeypatch: pytest.MonkeyPatch, accept: str
) -> None:
    async def broken(self: Run) -> Any:
        raise RuntimeError('SELECT secret FROM "programs"')

    monkeypatch.setattr(Run, "execute", broken)
    ask(api, watch, PROGRAMS, {"first": 1}, token=newcomer(entra))  # planned (the plan is kept)

    lane = ask(api, watch, PROGRAMS, {"first": 1}, token=newcomer(entra), accept=accept)
    view = ask(api, watch, fresh(PROGRAMS), {"first": 1}, token=newcomer(entra), accept=accept)

    assert_alike(lane, view)
    assert lane.status == (500 if accept == GRAPHQL_RESPONSE else 200)
    assert lane.body["errors"] == [{"message": "Unexpected error."}]
    assert "secret" not in str(lane.body)
    assert [entry[:4] for entry in lane.logged] == [
        ("incentives.graphql", "ERROR", "unexpected error at ", "RuntimeError")
    ]


async def _unreachable(self: Run) -> Any:
    raise ConnectionRefusedError("connect call failed ('10.0.0.9', 5432)")


def test_the_database_away_is_unavailable_alike(
    api: ApiServer, entra: RunningEntra, watch: Watch, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Run, "execute", _unreachable)
    ask(api, watch, PROGRAMS, {"first": 1}, token=newcomer(entra))  # planned

    lane = ask(api, watch, PROGRAMS, {"first": 1}, token=newcomer(entra))
    view = ask(api, watch, fresh(PROGRAMS), {"first": 1}, token=newcomer(entra))

    assert_alike(lane, view)
    assert (lane.status, lane.retry_after) == (503, 5)
    assert lane.body["errors"] == [
        {
            "message": "The service cannot reach its database just now; try again shortly.",
            "extensions": {"code": "UNAVAILABLE"},
        }
    ]
    assert lane.logged == [("incentives.graphql", "WARNING", "the database is unavailable", None, True)]


def test_the_database_lost_during_a_field_is_unavailable_alike(
    api: ApiServer, entra: RunningEntra, watch: Watch, monkeypatch: pytest.MonkeyPatch
) -> None:
    member = _members(api, entra)

    async def lost(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionResetError("connection reset by peer")

    monkeypatch.setattr(declared_types, "rows_by_parent", lost)  # the tax profile's read
    ask(api, watch, TAX, token=member())  # planned

    lane = ask(api, watch, TAX, token=member())
    view = ask(api, watch, fresh(TAX), token=member())

    assert_alike(lane, view)
    assert lane.path == LANE_THEN_VIEW
    assert (lane.status, lane.retry_after) == (503, 5)
    assert lane.body["data"]["viewer"]["organization"]["locations"]["edges"][0]["node"]["name"] == "Stockholm"
    assert [error["extensions"]["code"] for error in lane.body["errors"]] == ["UNAVAILABLE"] * 2
    assert lane.logged == [("incentives.graphql", "WARNING", "the database is unavailable", None, True)]


def test_a_read_past_the_deadline_is_stopped_alike(
    api: ApiServer, entra: RunningEntra, watch: Watch, monkeypatch: pytest.MonkeyPatch
) -> None:
    ask(api, watch, PROGRAMS, {"first": 1}, token=newcomer(entra))  # planned

    async def slow(self: Run) -> Any:
        await asyncio.sleep(30)

    monkeypatch.setattr(Run, "execute", slow)
    lane = ask(api, watch, PROGRAMS, {"first": 1}, token=newcomer(entra))
    view = ask(api, watch, fresh(PROGRAMS), {"first": 1}, token=newcomer(entra))

    assert (lane.path, view.path) == (STOPPED_IN_LANE, VIEW)
    assert (lane.status, lane.body, lane.logged, lane.charges) == (view.status, view.body, view.logged, 1)
    assert lane.status == 504
    assert lane.body["errors"][0]["extensions"]["code"] == "TIMEOUT"
    assert [entry[:3] for entry in lane.logged] == [
        ("incentives.api", "WARNING", "request stopped after 1 s (INCENTIVES_REQUEST_TIMEOUT)")
    ]
