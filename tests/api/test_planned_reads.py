"""The planned read path answers exactly as graphql-core does: every operation, caller and edge case.

The corpus: the operations written for these tests (the dashboard, every kind of `node`, paging at
its limits, fragments, aliases, @skip/@include, forbidden fields, other tenants' ids), and every
query document of the test suite, run on a world with the edge cases the read model must get right
(`tests/api/differential.py`), for every kind of caller. Each answer of the planned path is
compared with graphql-core's: zero differences, errors and nulls included.
"""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.differential import CURATED, PLANNED, Compared, EdgeWorld, compare, edge_world, from_tests
from tests.support.world import World

# The suite's own reads, for callers of every kind of reach (with ids of every kind of object).
SUITE_CALLERS = ("global admin", "incentives admin", "incentives user", "operator", "other global admin")


@pytest.fixture
async def edge(sessions: async_sessionmaker[AsyncSession]) -> EdgeWorld:
    return await edge_world(World(sessions))


def reported(compared: Compared, what: str) -> str:
    return (
        f"{what}: {compared.runs} runs of {compared.operations} operations compared; "
        f"{compared.planned} answered by the planned path, the rest left to graphql-core"
    )


async def test_the_curated_reads_answer_as_graphql_core_does_for_every_caller(edge: EdgeWorld) -> None:
    compared = await compare(edge, CURATED)

    print(reported(compared, f"curated x {len(edge.callers)} callers"))
    assert compared.differences == [], "\n\n".join(compared.differences[:5])
    assert compared.planned >= compared.runs * 3 // 4, reported(compared, "mostly planned")


async def test_every_read_of_the_test_suite_answers_as_graphql_core_does(edge: EdgeWorld) -> None:
    documents = from_tests(PLANNED)

    compared = await compare(edge, documents, callers=SUITE_CALLERS, all_ids=False)

    print(reported(compared, f"the suite's {len(documents)} reads x {len(SUITE_CALLERS)} callers"))
    assert len(documents) >= 30, "the suite's reads were not found"
    assert compared.differences == [], "\n\n".join(compared.differences[:5])
