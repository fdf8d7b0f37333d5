"""The API benchmark's comparison, at a tiny scale on SQLite, so that it cannot rot: the floor and
incentives (in process, signing in with a real loopback Entra token) give the same data for the
dashboard, `node(id:)` and `programs`. The real run (`./run bench`) is not a test."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from bench.api.dataset import Scale, seed, viewer_of
from bench.api.inprocess import floor_in_process, incentives_counted
from bench.api.operations import operations
from bench.api.run import enrollment_ids
from bench.api.signin import SignIn, mint_for
from bench.api.verify import answers, count, same
from tests.support.entra import RunningEntra

SCALE = Scale(organizations=3, locations_per_organization=4, enrollments_per_location=6, programs=6)


async def test_the_floor_and_incentives_answer_the_three_operations_alike(
    sqlite_url: str, entra: RunningEntra
) -> None:
    today = datetime.now(UTC).date()
    await seed(sqlite_url, SCALE, today)
    viewer = viewer_of(2)
    signin = SignIn(entra.base_url, mint_for(entra.entra, viewer))
    ops = operations(viewer.organization_id, enrollment_ids(SCALE, viewer.organization_id))
    async with (
        httpx.AsyncClient(timeout=30) as http,
        floor_in_process(sqlite_url) as floor_url,
        incentives_counted(sqlite_url, signin) as (ours_url, executed),
    ):
        floor = await answers(http, floor_url, "floor", ops, signin.token, today)
        ours = await answers(http, ours_url, "incentives", ops, signin.token, today)
        statements = await count(http, ours_url, "incentives", ops[2], signin.token, executed, "sqlalchemy")
    same(floor, ours, "floor", "incentives")
    statuses = {e["status"] for location in ours["dashboard"][0] for e in location["enrollments"]}
    assert {"ENROLLING", "DISCONTINUED", "ENROLLED"} <= statuses
    assert len(ours["node"]) == 24
    assert len(ours["programs"][0]) == 6
    assert statements.per_request >= 1
