"""The floor: the three operations as bare Starlette + asyncpg (or aiosqlite), one hand-written
statement each, answering the same JSON as incentives. No GraphQL engine: it dispatches on
`operationName`. Its only sign-in is reading the tenant (`tid`) from the bearer token's payload,
unverified; the SQL narrows to that tenant's organization as incentives does.

    python -m bench.api.floor --database-url postgresql://postgres@127.0.0.1/db --port 8101
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
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

# Shown status for a Global admin: DISCONTINUED program; in progress, or ENROLLED this year (or
# later) with the newest tax profile expired, as ENROLLING; else stored.  $fy: fiscal year, $today.
_SHOWN = """CASE WHEN p.status = 'DISCONTINUED' THEN 'DISCONTINUED'
  WHEN e.status IN ('ACTION_REQUIRED', 'VALIDATING_ENROLLMENT') THEN 'ENROLLING'
  WHEN e.status = 'ENROLLED' AND e.fiscal_year >= $fy AND t.expires_on <= $today THEN 'ENROLLING'
  ELSE e.status END"""
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
SELECT loc.id, loc.partner_id, loc.name, e.id, {_SHOWN}, e.fiscal_year, p.code, p.name
FROM loc
LEFT JOIN e ON e.location_id = loc.id AND e.n <= 5
LEFT JOIN programs p ON p.id = e.program_id
LEFT JOIN tax_profiles t ON {_NEWEST_TAX.format(location="loc.id")}
ORDER BY loc.id, e.id"""

NODE_SQL = f"""SELECT e.id, {_SHOWN}, e.fiscal_year, p.code, p.name, l.partner_id, l.name
FROM enrollments e
JOIN locations l ON l.id = e.location_id
JOIN programs p ON p.id = e.program_id
LEFT JOIN tax_profiles t ON {_NEWEST_TAX.format(location="e.location_id")}
WHERE e.id = $key AND l.organization_id = {_ORGANIZATION}"""

PROGRAMS_SQL = "SELECT code, name, status FROM programs ORDER BY id LIMIT 20"
_PARAMETERS = ("$tenant", "$fy", "$today", "$key")


def numbered(sql: str, style: str) -> str:
    """`$tenant`, `$fy`, ... as `$1`.. (asyncpg) or `?1`.. (SQLite)."""
    for number, name in enumerate(_PARAMETERS, start=1):
        sql = sql.replace(name, f"{style}{number}")
    return sql


class Database(Protocol):
    async def fetch(self, sql: str, *args: Any) -> list[Row]: ...


class Postgres:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        rows: list[Row] = await self._pool.fetch(numbered(sql, "$"), *args)
        return rows


class Sqlite:
    """A fixed set of aiosqlite connections handed out in turn."""

    def __init__(self, connections: asyncio.Queue[aiosqlite.Connection]) -> None:
        self._connections = connections

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        connection = await self._connections.get()
        try:
            values = [a.isoformat() if hasattr(a, "isoformat") else a for a in args]
            return list(await connection.execute_fetchall(numbered(sql, "?"), values))
        finally:
            self._connections.put_nowait(connection)


async def _no_reset(connection: asyncpg.Connection) -> None:
    """The floor sets no session state, so a released connection needs no RESET ALL round trip."""


@asynccontextmanager
async def connected(database_url: str) -> AsyncIterator[Database]:
    url = make_url(database_url)
    if url.drivername.startswith("sqlite"):
        queue: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        for _ in range(4):
            queue.put_nowait(await aiosqlite.connect(str(url.database)))
        try:
            yield Sqlite(queue)
        finally:
            while not queue.empty():
                await queue.get_nowait().close()
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


async def dashboard(db: Database, tenant: str, variables: dict[str, Any]) -> Any:
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


async def node(db: Database, tenant: str, variables: dict[str, Any]) -> Any:
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


async def programs(db: Database, tenant: str, variables: dict[str, Any]) -> Any:
    rows = await db.fetch(PROGRAMS_SQL)
    return {"programs": {"edges": [{"node": {"code": r[0], "name": r[1], "status": r[2]}} for r in rows]}}


Handler = Callable[[Database, str, dict[str, Any]], Awaitable[Any]]
HANDLERS: dict[str, Handler] = {"Dashboard": dashboard, "EnrollmentNode": node, "Programs": programs}


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, separators=(",", ":")), status, media_type="application/json")


def create_floor(database_url: str) -> Starlette:
    async def graphql(request: Request) -> Response:
        tenant = tenant_of(request.headers.get("authorization", ""))
        if tenant is None:
            return _json({"errors": [{"message": "A bearer token is required."}]}, 401)
        body = await request.json()
        handler = HANDLERS.get(body.get("operationName"))
        if handler is None:
            return _json({"errors": [{"message": "The floor answers three operations only."}]}, 400)
        db: Database = request.state.db
        return _json({"data": await handler(db, tenant, body.get("variables") or {})})

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
