"""The API benchmark's comparison, at a tiny scale on SQLite, so that it cannot rot: the floor and
incentives (in process, signing in with a real loopback Entra token) give the same data for the
dashboard, `node(id:)` and `programs`; the floor's SQLite statements reach the tables through
indexes. The real run (`./run bench`) is not a test."""

from __future__ import annotations

import base64
import json
import sqlite3
from contextlib import closing
from datetime import UTC, datetime

import httpx
from sqlalchemy.engine import make_url

from bench.api.dataset import Scale, seed, viewer_of
from bench.api.floor import SQLITE_DASHBOARD, SQLITE_NODE, SQLITE_PROGRAMS, numbered
from bench.api.inprocess import floor_in_process, incentives_counted
from bench.api.operations import global_id, operations
from bench.api.run import enrollment_ids
from bench.api.signin import SignIn, mint_for
from bench.api.verify import answers, ask, count, same
from domain.fiscal import fiscal_year_of
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


async def test_the_sqlite_floor_answers_no_node_for_an_enrollment_of_another_organization(
    sqlite_url: str,
) -> None:
    await seed(sqlite_url, SCALE, datetime.now(UTC).date())
    claims = base64.urlsafe_b64encode(json.dumps({"tid": viewer_of(2).tenant_id}).encode()).decode()
    theirs = {"operationName": "EnrollmentNode", "variables": {"id": global_id("Enrollment", 1)}}
    async with httpx.AsyncClient(timeout=30) as http, floor_in_process(sqlite_url) as floor_url:
        answer = await ask(http, floor_url, theirs, f"unverified.{claims.rstrip('=')}.signature")
    assert answer == {"data": {"node": None}}


async def test_the_sqlite_floor_scans_no_table_but_the_page_of_programs(sqlite_url: str) -> None:
    today = datetime.now(UTC).date()
    await seed(sqlite_url, SCALE, today)
    shown = (viewer_of(2).tenant_id, fiscal_year_of(today), today.isoformat())
    statements: list[tuple[str, tuple[object, ...]]] = [
        (SQLITE_DASHBOARD, shown),
        (SQLITE_NODE, (*shown, 30, "id")),
        (SQLITE_PROGRAMS, ()),
    ]
    with closing(sqlite3.connect(str(make_url(sqlite_url).database))) as connection:
        for sql, arguments in statements:
            rows = connection.execute(f"EXPLAIN QUERY PLAN {numbered(sql, '?')}", arguments)
            plan = [str(row[3]) for row in rows]
            subqueries = {step.split(" ", 1)[1] for step in plan if step.startswith("CO-ROUTINE ")}
            scanned = {step.removeprefix("SCAN ") for step in plan if step.startswith("SCAN ")}
            assert scanned <= subqueries | {"programs", "CONSTANT ROW"}, plan
            assert not any(step.startswith(("MATERIALIZE", "BLOOM", "AUTOMATIC")) for step in plan), plan
