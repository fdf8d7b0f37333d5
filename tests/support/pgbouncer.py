"""A private PgBouncer in transaction mode in front of the tests' PostgreSQL, as production puts one.

Fixtures (stable names):
- `pgbouncer` (session): Debian's `pgbouncer`, started on a free port with a generated ini that
  serves every database of the test server (`* = host=... port=...`) with `pool_mode =
  transaction` and a small pool, so that clients share server connections as they do at scale;
  skipped with a message where the program is not installed (`.ci/run` installs it).
- `pooled_postgres` (session): the session's PostgreSQL database through it, with the direct URL
  beside it (`Pooled`).

`engine_for(url)` makes an engine the way `serve` does for that URL: through PgBouncer (no
prepared statement outlives its statement) with the direct URL for what needs a session when `url`
is one of `pooled_postgres`'s, else plainly.
"""

from __future__ import annotations

import getpass
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.database import create_engine

POOL_SIZE = 6  # server connections per database: fewer than the clients, so they are shared
START_SECONDS = 10.0

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
    log: Path

    def pooled(self, direct_url: str) -> Pooled:
        """`direct_url`'s database through this PgBouncer; `engine_for` knows the pair."""
        url = make_url(direct_url).set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)
        DIRECT[url] = direct_url
        return Pooled(url, direct_url)


def engine_for(url: str, **options: int) -> AsyncEngine:
    """An engine as `serve` makes it: with the direct URL when `url` goes through PgBouncer."""
    return create_engine(url, direct_url=DIRECT.get(url), **options)


def _program() -> str | None:
    return shutil.which("pgbouncer") or next(
        (str(path) for path in (Path("/usr/sbin/pgbouncer"),) if path.exists()), None
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _ini(directory: Path, port: int, server_host: str, server_port: int) -> str:
    return f"""[databases]
* = host={server_host} port={server_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {directory}/users.txt
pool_mode = transaction
default_pool_size = {POOL_SIZE}
max_client_conn = 1000
logfile = {directory}/pgbouncer.log
"""


def _accepting(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def pgbouncer(postgres_url: str) -> Iterator[PgBouncer]:
    program = _program()
    if program is None:
        pytest.skip("Debian's pgbouncer is not installed (apt-get install pgbouncer): not tried through it")
    server = make_url(postgres_url)
    directory = Path(tempfile.mkdtemp(prefix="incentives-pgbouncer-"))
    port = _free_port()
    user = server.username or "postgres"
    (directory / "users.txt").write_text(f'"{user}" ""\n')
    ini = directory / "pgbouncer.ini"
    ini.write_text(_ini(directory, port, server.host or "127.0.0.1", server.port or 5432))
    # PgBouncer will not run as root: as root, it becomes the `postgres` user (-u) in a directory
    # of its own.
    as_user = ["-u", "postgres"] if getpass.getuser() == "root" else []
    if as_user:
        for path in (directory, *directory.iterdir()):
            shutil.chown(path, "postgres", "postgres")
    process = subprocess.Popen(
        [program, *as_user, str(ini)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + START_SECONDS
        while not _accepting(port):
            if process.poll() is not None or time.monotonic() > deadline:
                log = directory / "pgbouncer.log"
                raise RuntimeError(f"pgbouncer did not start: {log.read_text() if log.exists() else ''}")
            time.sleep(0.05)
        yield PgBouncer(port, directory / "pgbouncer.log")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def pooled_postgres(pgbouncer: PgBouncer, postgres_url: str) -> Pooled:
    return pgbouncer.pooled(postgres_url)


def direct_settings(url: str) -> dict[str, str]:
    """The settings a process needs beside DATABASE_URL=`url`: the direct URL when it is PgBouncer."""
    direct = DIRECT.get(url)
    return {} if direct is None else {"INCENTIVES_DIRECT_DATABASE_URL": direct}
