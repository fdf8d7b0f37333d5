"""The floor: the three operations as bare Starlette + asyncpg (or aiosqlite), one hand-written
statement each, answering the same JSON as incentives. No GraphQL engine: it dispatches on
`operationName`. Its only sign-in is reading the tenant (`tid`) from the bearer token's payload,
unverified; the SQL narrows to that tenant's organization as incentives does.

On PostgreSQL each statement returns rows and the floor builds the JSON in Python: kept as it was,
since its figures are the baseline of earlier runs. On SQLite the floor is as strong as a bare
Starlette + aiosqlite server can be: each statement's one value is the finished JSON text of
`data`, built by SQLite's JSON functions over indexed lookups (a location's newest tax profile read
once for its enrollments), and the response is that text inside `{"data":...}`, joined as strings
with no JSON decoding or encoding in Python. It reads through `SQLITE_CONNECTIONS` aiosqlite
connections taken in turn: of 1, 2 and 4 (on 2 cores, 16 wrk connections), one was the fastest for
each operation; more threads only contend with the event loop and the load generator.

    python -m bench.api.floor --database-url postgresql://postgres@127.0.0.1/db --port 8101
"""

from __future__ import annotations

import argparse
import base64
import binascii
import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Protocol

import aiosqlite
import asyncpg
import uvicorn
from sqlalchemy.engine import make_url
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domain.fiscal import fiscal_year_of

Row = Sequence[Any]
POOL_SIZE = 10
SQLITE_CONNECTIONS = 1

# Shown status for a Global admin: DISCONTINUED program; in progress, or ENROLLED this year (or
# later) with the newest tax profile expired, as ENROLLING; else stored.  $fy: fiscal year, $today;
# {expires}: the newest tax profile's expiry.
_SHOWN = """CASE WHEN p.status = 'DISCONTINUED' THEN 'DISCONTINUED'
  WHEN e.status IN ('ACTION_REQUIRED', 'VALIDATING_ENROLLMENT') THEN 'ENROLLING'
  WHEN e.status = 'ENROLLED' AND e.fiscal_year >= $fy AND {expires} <= $today THEN 'ENROLLING'
  ELSE e.status END"""
_SHOWN_WITH_T = _SHOWN.format(expires="t.expires_on")  # the newest tax profile joined as `t`
_NEWEST_TAX = "t.id = (SELECT max(id) FROM tax_profiles WHERE location_id = {location})"
_ORGANIZATION = "(SELECT organization_id FROM organization_tenants WHERE tenant_id = $tenant)"

DASHBOARD_SQL = f"""WITH loc AS (
  SELECT id, partner_id, name FROM locations WHERE organization_id = {_ORGANIZATION}
  ORDER BY id LIMIT 50
), e AS (
  SELECT id, location_id, program_id, fiscal_year, status,
    row_number() OVER (PARTITION BY location_id ORDER BY id) AS n
  FROM enrollments WHERE location_id IN (SELECT id FROM loc)
)
SELECT loc.id, loc.partner_id, loc.name, e.id, {_SHOWN_WITH_T}, e.fiscal_year, p.code, p.name
FROM loc
LEFT JOIN e ON e.location_id = loc.id AND e.n <= 5
LEFT JOIN programs p ON p.id = e.program_id
LEFT JOIN tax_profiles t ON {_NEWEST_TAX.format(location="loc.id")}
ORDER BY loc.id, e.id"""

NODE_SQL = f"""SELECT e.id, {_SHOWN_WITH_T}, e.fiscal_year, p.code, p.name, l.partner_id, l.name
FROM enrollments e
JOIN locations l ON l.id = e.location_id
JOIN programs p ON p.id = e.program_id
LEFT JOIN tax_profiles t ON {_NEWEST_TAX.format(location="e.location_id")}
WHERE e.id = $key AND l.organization_id = {_ORGANIZATION}"""

PROGRAMS_SQL = "SELECT code, name, status FROM programs ORDER BY id LIMIT 20"

# SQLite: the JSON text of `data`. SQLite does not promise that a subquery's value keeps its JSON
# subtype (without it the JSON is embedded as a string), hence json() around the nested one; the
# aggregates take their rows in order (each page is ordered in its subquery).
SQLITE_DASHBOARD = f"""SELECT json_object('viewer', json_object('organization', json_object('locations',
  json_object('edges', json_group_array(json_object('node', json_object(
    'partnerId', l.partner_id, 'name', l.name, 'enrollments', json_object('edges', json((
      SELECT json_group_array(json_object('node', json_object(
        'status', {_SHOWN.format(expires="l.expires_on")},
        'fiscalYear', e.fiscal_year, 'program', json_object('code', p.code, 'name', p.name))))
      FROM (SELECT program_id, fiscal_year, status FROM enrollments WHERE location_id = l.id
        ORDER BY id LIMIT 5) AS e
      CROSS JOIN programs AS p ON p.id = e.program_id))))))))))
FROM (
  SELECT id, partner_id, name,
    (SELECT expires_on FROM tax_profiles WHERE location_id = locations.id ORDER BY id DESC LIMIT 1)
      AS expires_on
  FROM locations WHERE organization_id = {_ORGANIZATION}
  ORDER BY id LIMIT 50
) AS l"""

SQLITE_NODE = f"""SELECT json_object('node', json((
  SELECT json_object('id', $id, 'status', {_SHOWN_WITH_T},
    'fiscalYear', e.fiscal_year, 'program', json_object('code', p.code, 'name', p.name),
    'location', json_object('partnerId', l.partner_id, 'name', l.name))
  FROM enrollments e
  JOIN locations l ON l.id = e.location_id
  JOIN programs p ON p.id = e.program_id
  LEFT JOIN tax_profiles t ON {_NEWEST_TAX.format(location="e.location_id")}
  WHERE e.id = $key AND l.organization_id = {_ORGANIZATION}
)))"""

SQLITE_PROGRAMS = """SELECT json_object('programs', json_object('edges', json_group_array(
  json_object('node', json_object('code', code, 'name', name, 'status', status)))))
FROM (SELECT code, name, status FROM programs ORDER BY id LIMIT 20)"""

_PARAMETERS = ("$tenant", "$fy", "$today", "$key", "$id")
NO_NODE = '{"node":null}'


def numbered(sql: str, style: str) -> str:
    """`$tenant`, `$fy`, ... as `$1`.. (asyncpg) or `?1`.. (SQLite)."""
    for number, name in enumerate(_PARAMETERS, start=1):
        sql = sql.replace(name, f"{style}{number}")
    return sql


class Database(Protocol):
    async def data(self, operation: str, tenant: str, variables: dict[str, Any]) -> str | None:
        """The JSON text of `data` for `operation`, None for an operation the floor does not answer."""
        ...


class Postgres:
    """The rows of asyncpg's pool made into JSON in Python (the handlers below)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        rows: list[Row] = await self._pool.fetch(numbered(sql, "$"), *args)
        return rows

    async def data(self, operation: str, tenant: str, variables: dict[str, Any]) -> str | None:
        handler = HANDLERS.get(operation)
        if handler is None:
            return None
        return json.dumps(await handler(self, tenant, variables), separators=(",", ":"))


class Sqlite:
    """A fixed set of aiosqlite connections, taken in turn without waiting for one to be free:
    each runs its statements one after another on its own thread, so a busy one queues work
    there instead of in the event loop."""

    def __init__(self, connections: Sequence[aiosqlite.Connection]) -> None:
        self._connections = itertools.cycle(connections)
        self._dashboard, self._node, self._programs = (
            numbered(sql, "?") for sql in (SQLITE_DASHBOARD, SQLITE_NODE, SQLITE_PROGRAMS)
        )

    async def data(self, operation: str, tenant: str, variables: dict[str, Any]) -> str | None:
        if operation == "Programs":
            return await self._value(self._programs)
        today = datetime.now(UTC).date()
        if operation == "Dashboard":
            return await self._value(self._dashboard, tenant, fiscal_year_of(today), today.isoformat())
        if operation != "EnrollmentNode":
            return None
        global_id = variables.get("id")
        key = enrollment_key(global_id)
        if key is None:
            return NO_NODE
        return await self._value(self._node, tenant, fiscal_year_of(today), today.isoformat(), key, global_id)

    async def _value(self, sql: str, *args: Any) -> str:
        rows = await next(self._connections).execute_fetchall(sql, args)
        text: str = next(iter(rows))[0]
        return text


async def _no_reset(connection: asyncpg.Connection) -> None:
    """The floor sets no session state, so a released connection needs no RESET ALL round trip."""


@asynccontextmanager
async def connected(database_url: str) -> AsyncIterator[Database]:
    url = make_url(database_url)
    if url.drivername.startswith("sqlite"):
        connections: list[aiosqlite.Connection] = []
        try:
            for _ in range(SQLITE_CONNECTIONS):
                connections.append(await aiosqlite.connect(str(url.database)))
            yield Sqlite(connections)
        finally:
            for connection in connections:
                await connection.close()
        return
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    async with asyncpg.create_pool(dsn, min_size=1, max_size=POOL_SIZE, reset=_no_reset) as pool:
        yield Postgres(pool)


def tenant_of(authorization: str) -> str | None:
    """The `tid` claim of a bearer token, read without checking the signature (the floor trusts)."""
    scheme, _, token = authorization.partition(" ")
    parts = token.split(".")
    if scheme.lower() != "bearer" or len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):
        return None
    tenant = claims.get("tid") if isinstance(claims, dict) else None
    return tenant if isinstance(tenant, str) else None


def enrollment_key(global_id: object) -> int | None:
    if not isinstance(global_id, str):
        return None
    try:
        kind, _, key = (
            base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode().partition(":")
        )
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return int(key) if kind == "Enrollment" and key.isdigit() else None


async def dashboard(db: Postgres, tenant: str, variables: dict[str, Any]) -> Any:
    today = datetime.now(UTC).date()
    locations: list[dict[str, Any]] = []
    enrollments: list[dict[str, Any]] = []
    last = None
    for row in await db.fetch(DASHBOARD_SQL, tenant, fiscal_year_of(today), today):
        if row[0] != last:
            last, enrollments = row[0], []
            locations.append(
                {"node": {"partnerId": row[1], "name": row[2], "enrollments": {"edges": enrollments}}}
            )
        if row[3] is not None:
            program = {"code": row[6], "name": row[7]}
            enrollments.append({"node": {"status": row[4], "fiscalYear": row[5], "program": program}})
    return {"viewer": {"organization": {"locations": {"edges": locations}}}}


async def node(db: Postgres, tenant: str, variables: dict[str, Any]) -> Any:
    key = enrollment_key(variables.get("id"))
    today = datetime.now(UTC).date()
    rows = [] if key is None else await db.fetch(NODE_SQL, tenant, fiscal_year_of(today), today, key)
    if not rows:
        return {"node": None}
    row = rows[0]
    return {
        "node": {
            "id": variables["id"],
            "status": row[1],
            "fiscalYear": row[2],
            "program": {"code": row[3], "name": row[4]},
            "location": {"partnerId": row[5], "name": row[6]},
        }
    }


async def programs(db: Postgres, tenant: str, variables: dict[str, Any]) -> Any:
    rows = await db.fetch(PROGRAMS_SQL)
    return {"programs": {"edges": [{"node": {"code": r[0], "name": r[1], "status": r[2]}} for r in rows]}}


Handler = Callable[[Postgres, str, dict[str, Any]], Awaitable[Any]]
HANDLERS: dict[str, Handler] = {"Dashboard": dashboard, "EnrollmentNode": node, "Programs": programs}


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, separators=(",", ":")), status, media_type="application/json")


def create_floor(database_url: str) -> Starlette:
    async def graphql(request: Request) -> Response:
        tenant = tenant_of(request.headers.get("authorization", ""))
        if tenant is None:
            return _json({"errors": [{"message": "A bearer token is required."}]}, 401)
        body = await request.json()
        db: Database = request.state.db
        data = await db.data(body.get("operationName"), tenant, body.get("variables") or {})
        if data is None:
            return _json({"errors": [{"message": "The floor answers three operations only."}]}, 400)
        return Response('{"data":' + data + "}", media_type="application/json")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        async with connected(database_url) as db:
            yield {"db": db}

    return Starlette(routes=[Route("/graphql", graphql, methods=["POST"])], lifespan=lifespan)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.api.floor", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    uvicorn.run(
        create_floor(args.database_url),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
