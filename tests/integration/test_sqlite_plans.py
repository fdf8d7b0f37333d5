"""Every statement the planned read runs on SQLite uses an index on the large tables.

The benchmark's three operations and a few representative reads are sent to the app (served in
process) over the benchmark's data set, every statement the engine executes for them is captured
with its parameters (`adapters.driver_reads.every_execution`: SQLAlchemy's own statements and the
planned read's, which go straight to the driver; whatever statements run, however they are built),
and each one's `EXPLAIN QUERY PLAN` must not read every row of a large table.

SQLite says SEARCH for a step that looks rows up by a key and SCAN for one that walks every row:
of the table, or of an index (`SCAN t USING INDEX i` is read for its order or because it is
narrower, still every entry: the plan `col IN (...) = 1` got on the dashboard's enrollments). An
AUTOMATIC index is built from every row, at each run. One SCAN is fine: the outermost loop of a
statement that reads one page in key order (it ends `ORDER BY <column> LIMIT ?`, no sort before
it), which stops at the page's last row.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.driver_reads import every_execution
from api.app import create_app
from auth.principal import GLOBAL_ADMINISTRATOR_WID
from bench.api.dataset import Scale, seed, viewer_of
from bench.api.inprocess import serving
from bench.api.operations import global_id, operations
from bench.api.run import enrollment_ids
from domain.database import create_engine
from domain.fiscal import fiscal_year_of
from tests.support import personas
from tests.support.entra import RunningEntra
from tests.support.server import api_settings

LARGE_TABLES = (
    "enrollments",
    "locations",
    "tax_profiles",
    "invitations",
    "organization_tenants",
    "role_assignments",
)
SCALE = Scale(organizations=8, locations_per_organization=25, enrollments_per_location=6, programs=8)
ORGANIZATION = 2
Json = dict[str, Any]
EXPLAINED = frozenset({"SELECT", "WITH", "INSERT", "UPDATE", "DELETE"})

_STEP = re.compile(r"(SCAN|SEARCH) (\w+)")
_PAGED = re.compile(r"\bORDER BY \w+\.\w+(?: ASC| DESC)?\s+LIMIT \?(?: OFFSET \?)?\s*$")


@dataclass(frozen=True)
class Step:
    """One line of `EXPLAIN QUERY PLAN`: its id, its parent's (0 at the top) and what it does."""

    id: int
    parent: int
    detail: str


def plan_of(database: sqlite3.Connection, sql: str, parameters: Sequence[Any]) -> list[Step]:
    rows = database.execute(f"EXPLAIN QUERY PLAN {sql}", tuple(parameters)).fetchall()
    return [Step(row[0], row[1], row[3]) for row in rows]


def _large_names(sql: str) -> set[str]:
    """The large tables and their aliases in `sql` (SQLite's plan names a table by its alias)."""
    pattern = rf"\b({'|'.join(LARGE_TABLES)}) AS (\w+)"
    return {*LARGE_TABLES, *(alias for _, alias in re.findall(pattern, sql))}


def whole_scans(sql: str, plan: Sequence[Step]) -> list[Step]:
    """The steps of `plan` that read every row of a large table (module docstring)."""
    large = _large_names(sql)
    top = [step for step in plan if step.parent == 0]
    outermost = next((step for step in top if _STEP.match(step.detail)), None)
    paged = _PAGED.search(sql) is not None and not any("TEMP B-TREE" in step.detail for step in top)
    found = []
    for step in plan:
        match = _STEP.match(step.detail)
        if match is None or match[2] not in large:
            continue
        scan = match[1] == "SCAN" and not (paged and step is outermost)
        if scan or "AUTOMATIC" in step.detail:
            found.append(step)
    return found


def shown(plan: Sequence[Step]) -> str:
    """The plan as SQLite's shell draws it, one step a line, indented under its parent."""
    depth = {0: 0}
    lines = []
    for step in plan:
        depth[step.id] = depth.get(step.parent, 0) + 1
        lines.append("  " * depth[step.id] + step.detail)
    return "\n".join(lines)


@dataclass(frozen=True)
class Read:
    name: str
    caller: str  # "admin" (the benchmark's Global admin) or "operator"
    body: Json


@dataclass(frozen=True)
class Executed:
    read: str
    sql: str
    parameters: tuple[Any, ...]


def _reads() -> list[Read]:
    """The benchmark's operations (see bench/api/operations.py) and representative planned reads."""
    year = fiscal_year_of(datetime.now(UTC).date())
    keys = enrollment_ids(SCALE, ORGANIZATION)
    bench = {o.name: o.ours for o in operations(ORGANIZATION, keys)}
    location = (ORGANIZATION - 1) * SCALE.locations_per_organization + 1
    enrollments = "edges { node { status fiscalYear program { code name } } }"
    return [
        Read("the dashboard", "admin", bench["dashboard"][0]),
        Read("node(id:) of an enrollment", "admin", bench["node"][0]),
        Read("programs(first: 20)", "admin", bench["programs"][0]),
        Read(
            "a location's enrollments of a fiscal year",
            "admin",
            _body(
                "query($id: ID!, $year: Int) { node(id: $id) { ... on Location { name "
                f"enrollments(first: 5, fiscalYear: $year) {{ {enrollments} }} }} }} }}",
                {"id": global_id("Location", location), "year": year},
            ),
        ),
        Read(
            "the organization's locations' enrollments of a fiscal year",
            "admin",
            _body(
                "query($year: Int) { viewer { organization { locations(first: 20) { edges { node { name "
                f"taxProfile {{ expiresOn }} enrollments(first: 3, fiscalYear: $year) {{ {enrollments} }} "
                "} } } } } }",
                {"year": year},
            ),
        ),
        Read(
            "nodes of enrollments and locations",
            "admin",
            _body(
                "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Enrollment { status "
                "program { code } location { name } } ... on Location { name } } }",
                {
                    "ids": [global_id("Enrollment", key) for key in keys[:3]]
                    + [global_id("Location", location + n) for n in range(3)]
                },
            ),
        ),
        Read(
            "an operator's enrollments of one status",
            "operator",
            _body(
                "query { enrollments(status: ENROLLED, first: 20) { edges { node { status fiscalYear "
                "location { name organization { legalName } } program { code } } } } }"
            ),
        ),
    ]


def _body(query: str, variables: Json | None = None) -> Json:
    return {"query": query, "variables": variables or {}}


async def _run(
    http: httpx.AsyncClient, url: str, engine: AsyncEngine, read: Read, token: str
) -> list[Executed]:
    """The statements of the read's first answer (planned, through Strawberry) and its second (the
    planned read's own lane, what the benchmark's load runs)."""
    with every_execution(engine) as seen:
        for _ in range(2):
            response = await http.post(url, json=read.body, headers={"Authorization": f"Bearer {token}"})
            answer = response.json()
            assert response.status_code == 200, (read.name, answer)
            assert not answer.get("errors"), (read.name, answer)
            assert answer["data"], (read.name, answer)
    assert seen, f"{read.name}: no statement seen"
    return [Executed(read.name, sql, tuple(parameters)) for sql, parameters in seen]


async def test_every_statement_of_the_planned_reads_on_sqlite_uses_an_index(
    sqlite_url: str, entra: RunningEntra
) -> None:
    await seed(sqlite_url, SCALE, datetime.now(UTC).date())
    viewer = viewer_of(ORGANIZATION)
    tokens = {
        "admin": entra.mint(
            tenant_id=viewer.tenant_id,
            object_id=viewer.object_id,
            wids=[GLOBAL_ADMINISTRATOR_WID],
            name=viewer.name,
            email=viewer.email,
        ),
        "operator": personas.operator(entra).token,
    }
    engine = create_engine(sqlite_url)
    ran: list[Executed] = []
    try:
        app = create_app(api_settings(entra, sqlite_url), engine=engine)
        async with serving(app) as url, httpx.AsyncClient(timeout=30) as http:
            for read in _reads():
                ran += await _run(http, url, engine, read, tokens[read.caller])
    finally:
        await engine.dispose()
    offending = []
    # The JSON pages go straight to the driver, where SQLAlchemy's events do not see them.
    pages = [s for s in ran if s.read == "the dashboard" and "json_group_array" in s.sql]
    assert pages, "the dashboard's JSON page was not seen, so not explained"
    with closing(sqlite3.connect(str(make_url(sqlite_url).database))) as database:
        for statement in dict.fromkeys(ran):
            if statement.sql.lstrip().split(None, 1)[0].upper() not in EXPLAINED:
                continue
            plan = plan_of(database, statement.sql, statement.parameters)
            scans = whole_scans(statement.sql, plan)
            if scans:
                offending.append(
                    f"{statement.read}: {', '.join(s.detail for s in scans)}\n"
                    f"{' '.join(statement.sql.split())[:800]}\n{shown(plan)}"
                )
    assert not offending, "statements that walk a whole large table or index:\n\n" + "\n\n".join(offending)


@pytest.mark.parametrize(
    ("sql", "found"),
    [
        pytest.param(
            "SELECT id FROM enrollments WHERE location_id IN (1, 2) = 1",
            ["SCAN enrollments USING COVERING INDEX sqlite_autoindex_enrollments_1"],
            id="a whole index, for a boolean compared to one",
        ),
        pytest.param("SELECT id FROM enrollments WHERE location_id IN (1, 2)", [], id="a search"),
        pytest.param(
            "SELECT e.id FROM enrollments AS e WHERE e.status = 'X'",
            ["SCAN e USING COVERING INDEX ix_enrollments_year_status"],
            id="an alias",
        ),
        pytest.param(
            "SELECT id FROM enrollments WHERE status = 'X' ORDER BY enrollments.id ASC LIMIT ? OFFSET ?",
            [],
            id="a page in key order",
        ),
        pytest.param(
            "SELECT id FROM enrollments WHERE status = 'X' ORDER BY enrollments.earnings_start_date LIMIT ?",
            ["SCAN enrollments"],
            id="a page sorted first",
        ),
        pytest.param(
            "SELECT l.id FROM locations AS l WHERE EXISTS "
            "(SELECT 1 FROM enrollments AS e WHERE e.status = l.name) ORDER BY l.id LIMIT ?",
            ["SCAN e USING COVERING INDEX ix_enrollments_year_status"],
            id="a scan inside a page in key order",
        ),
        pytest.param(
            "SELECT l.id FROM locations AS l JOIN enrollments AS e ON e.status = l.name "
            "ORDER BY l.id LIMIT ?",
            ["SEARCH e USING AUTOMATIC COVERING INDEX (status=?)"],
            id="an automatic index",
        ),
    ],
)
def test_whole_scans_are_the_steps_that_read_every_row(sqlite_url: str, sql: str, found: list[str]) -> None:
    with closing(sqlite3.connect(str(make_url(sqlite_url).database))) as database:
        plan = plan_of(database, sql, [21] * sql.count("?"))
    assert [step.detail for step in whole_scans(sql, plan)] == found, shown(plan)
