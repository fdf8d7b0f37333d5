"""The planned read path answers exactly as graphql-core does: every operation, caller and edge case.

The corpus: the operations written for these tests (the dashboard, every kind of `node`, paging at
its limits, fragments, aliases, @skip/@include, forbidden fields, other tenants' ids), every
query document of the test suite, and operations hypothesis-graphql draws from the committed SDL,
run on a world with the edge cases the read model must get right
(`tests/api/differential.py`), for every kind of caller. Each answer of the planned path is
compared with graphql-core's: zero differences, errors and nulls included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.graphql.context import Context
from auth.authenticate import Authenticator, Callers
from auth.principal import Identity
from tests.api.differential import (
    CURATED,
    DASHBOARD,
    PLANNED,
    Compared,
    EdgeWorld,
    Json,
    compare,
    edge_world,
    from_tests,
    generated,
    services_for,
)
from tests.integration.statements import counted_statements
from tests.support.world import World

# The suite's own reads, for callers of every kind of reach (with ids of every kind of object).
# Operations drawn from the committed SDL by hypothesis-graphql (the same ones on every run).
GENERATED = 200
SUITE_CALLERS = ("global admin", "incentives admin", "incentives user", "operator", "other global admin")


@pytest.fixture
async def edge(sessions: async_sessionmaker[AsyncSession]) -> EdgeWorld:
    return await edge_world(World(sessions))


def reported(compared: Compared, what: str) -> str:
    return (
        f"{what}: {compared.runs} runs of {compared.operations} operations compared; "
        f"{compared.planned} answered by the planned path, the rest left to graphql-core; "
        f"{compared.lane} asked again and answered by the lane, as the planned path answered them"
    )


async def test_the_curated_reads_answer_as_graphql_core_does_for_every_caller(edge: EdgeWorld) -> None:
    compared = await compare(edge, CURATED)

    print(reported(compared, f"curated x {len(edge.callers)} callers"))
    assert compared.differences == [], "\n\n".join(compared.differences[:5])
    assert compared.planned >= compared.runs * 3 // 4, reported(compared, "mostly planned")
    assert compared.lane == compared.planned, reported(compared, "the lane answers each again")


async def test_every_read_of_the_test_suite_answers_as_graphql_core_does(edge: EdgeWorld) -> None:
    documents = from_tests(PLANNED)

    compared = await compare(edge, documents, callers=SUITE_CALLERS, all_ids=False)

    print(reported(compared, f"the suite's {len(documents)} reads x {len(SUITE_CALLERS)} callers"))
    assert len(documents) >= 30, "the suite's reads were not found"
    assert compared.differences == [], "\n\n".join(compared.differences[:5])
    assert compared.lane == compared.planned, reported(compared, "the lane answers each again")


async def test_reads_generated_from_the_schema_answer_as_graphql_core_does(
    edge: EdgeWorld, pytestconfig: pytest.Config
) -> None:
    documents = generated(edge, GENERATED, getattr(pytestconfig, "cache", None))  # None: -p no:cacheprovider

    compared = await compare(edge, documents, callers=SUITE_CALLERS)

    print(reported(compared, f"{len(documents)} generated reads x {len(SUITE_CALLERS)} callers"))
    assert len(documents) >= GENERATED * 9 // 10, "hypothesis-graphql drew fewer distinct operations"
    assert compared.differences == [], "\n\n".join(compared.differences[:5])
    assert compared.lane == compared.planned, reported(compared, "the lane answers each again")


class SignedIn:
    """A token validator that has already checked the token (no SQL there either way)."""

    def __init__(self, identity: Identity) -> None:
        self.identity = identity

    async def validate(self, authorization: Sequence[str]) -> Identity:
        return self.identity


@pytest.mark.parametrize(("locations", "enrollments"), [(1, 1), (5, 5), (50, 5), (100, 100)])
async def test_the_dashboard_costs_at_most_three_statements_sign_in_included(
    edge: EdgeWorld, sessions: async_sessionmaker[AsyncSession], locations: int, enrollments: int
) -> None:
    admin = edge.callers["global admin"]
    authenticator = Authenticator(
        SignedIn(admin.identity), sessions, edge.world.operator.tenant_id, recent=Callers()
    )
    services = replace(services_for(edge.world), authenticator=authenticator)
    document = DASHBOARD.replace("first: 50", f"first: {locations}").replace(
        "first: 5", f"first: {enrollments}"
    )

    async def dashboard() -> Json:
        # As the app signs in: a remembered caller is confirmed by the read (`Context.confirm`).
        principal, unconfirmed = await authenticator.remembered_for(["Bearer token"])
        context = Context(
            request_id="d",
            principal=principal,
            services=services,
            unconfirmed=unconfirmed,
            authorization=["Bearer token"],
        )
        return (await PLANNED.execute(document, context_value=context)).data or {}

    await dashboard()  # the caller's first request reads (and remembers) who they are
    with counted_statements(sessions) as statements:
        data = await dashboard()

    edges = data["viewer"]["organization"]["locations"]["edges"]
    assert [edge_["node"]["name"] for edge_ in edges] == ["Stockholm", "Gothenburg", "Malmo"][:locations]
    assert len(statements) <= 3, statements
