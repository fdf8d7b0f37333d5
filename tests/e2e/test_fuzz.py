"""Schemathesis (GraphQL mode) against the served API: every root field of the committed SDL, queries
and mutations, with arguments it generates, sent by each role of a seeded world. No answer may be a
5xx or a masked "Unexpected error." (a crash); nor may it be slow enough to hit the request deadline.

The examples per field and role are bounded (`INCENTIVES_FUZZ_EXAMPLES`, default 25): CI runs it on
every commit for a bounded time; set it higher for a longer hunt.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes

from tests.api.conftest import Seeded, contoso_and_fabrikam
from tests.support.configured_api import configured_api
from tests.support.databases import copy_sqlite_database, run_async
from tests.support.entra import RunningEntra
from tests.support.server import ApiServer
from tests.support.world import world_on

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("INCENTIVES_FUZZ_EXAMPLES", "25"))
ROLES = ("global_admin", "incentives_admin", "incentives_user", "plain_member", "operator")

schemathesis.graphql.scalar("Date", st.dates().map(lambda day: nodes.String(day.isoformat())))
schemathesis.graphql.scalar(
    "DateTime",
    st.datetimes(timezones=st.just(UTC)).map(lambda moment: nodes.String(moment.isoformat())),
)
SCHEMA = schemathesis.graphql.from_path(ROOT / "schema.graphql")

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def fuzzed(
    entra: RunningEntra, sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ApiServer, Seeded]]:
    """One served API on a seeded world for all the module's examples."""
    url = copy_sqlite_database(sqlite_template, tmp_path_factory.mktemp("fuzz") / "fuzz.db")

    async def seed() -> Seeded:
        async with world_on(url) as world:
            return await contoso_and_fabrikam(world, entra)

    seeded = run_async(seed)
    # Each role sends every example with one token: its budget of points would run out (429).
    with configured_api(url, authority=entra.base_url, rate_limit_points=10**9) as server:
        yield server, seeded


@pytest.mark.parametrize("role", ROLES)
@SCHEMA.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_generated_request_crashes_the_service(
    case: schemathesis.Case[Any], role: str, fuzzed: tuple[ApiServer, Seeded]
) -> None:
    server, seeded = fuzzed
    token = getattr(seeded, role).token
    started = datetime.now(UTC)

    response = case.call(base_url=f"{server.url}/graphql", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code in (200, 400), (case.body, response.status_code, response.text)
    body = response.json()
    assert "data" in body or "errors" in body
    crashes = [e for e in body.get("errors") or [] if e["message"] == "Unexpected error."]  # masked
    assert crashes == [], (case.body, response.text)
    assert (datetime.now(UTC) - started).total_seconds() < 10, case.body
