"""A private PgBouncer in transaction mode in front of the tests' PostgreSQL, as production puts one.

Fixtures (stable names):
- `pgbouncer` (session): Debian's `pgbouncer` (`bench.pgbouncer`), on a free port, serving every
  database of the test server with `pool_mode = transaction` and a small pool, so that clients share
  server connections as they do at scale; skipped with a message where it is not installed
  (`.ci/run` installs it).
- `pooled_postgres` (session): the session's PostgreSQL database through it, with the direct URL
  beside it (`Pooled`).

`engine_for(url)` makes an engine the way `serve` does for that URL: through PgBouncer (no
prepared statement outlives its statement) with the direct URL for what needs a session when `url`
is one of `pooled_postgres`'s, else plainly. `direct_settings(url)` is the same for a process.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.pgbouncer import private_pgbouncer, program, through
from domain.database import create_engine

POOL_SIZE = 6  # server connections per database: fewer than the clients, so they are shared

# The direct URL of each URL that goes through a private PgBouncer.
DIRECT: dict[str, str] = {}


@dataclass(frozen=True)
class Pooled:
    """A database served through PgBouncer (`url`) and directly (`direct_url`)."""

    url: str
    direct_url: str


@dataclass(frozen=True)
class PgBouncer:
    port: int

    def pooled(self, direct_url: str) -> Pooled:
        """`direct_url`'s database through this PgBouncer; `engine_for` knows the pair."""
        url = through(direct_url, self.port)
        DIRECT[url] = direct_url
        return Pooled(url, direct_url)


def engine_for(url: str, **options: int) -> AsyncEngine:
    """An engine as `serve` makes it: with the direct URL when `url` goes through PgBouncer."""
    return create_engine(url, direct_url=DIRECT.get(url), **options)


def direct_settings(url: str) -> dict[str, str]:
    """The settings a process needs beside DATABASE_URL=`url`: the direct URL when it is PgBouncer."""
    direct = DIRECT.get(url)
    return {} if direct is None else {"INCENTIVES_DIRECT_DATABASE_URL": direct}


@pytest.fixture(scope="session")
def pgbouncer(postgres_url: str) -> Iterator[PgBouncer]:
    if program() is None:
        pytest.skip("Debian's pgbouncer is not installed (apt-get install pgbouncer): not tried through it")
    server = make_url(postgres_url)
    host, port, user = server.host or "127.0.0.1", server.port or 5432, server.username or "postgres"
    with private_pgbouncer(host, port, user=user, pool_size=POOL_SIZE) as listening:
        yield PgBouncer(listening)


@pytest.fixture(scope="session")
def pooled_postgres(pgbouncer: PgBouncer, postgres_url: str) -> Pooled:
    return pgbouncer.pooled(postgres_url)
