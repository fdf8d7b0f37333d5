"""A private PgBouncer in transaction mode in front of a PostgreSQL server, for the benchmarks and the
tests (Debian's `pgbouncer`; `program()` is None where it is not installed).

    with private_pgbouncer("127.0.0.1", 5432, pool_size=20) as port:
        url = through(database_url, port)     # the same database, through PgBouncer
"""

from __future__ import annotations

import getpass
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

START_SECONDS = 10.0


def program() -> str | None:
    found = shutil.which("pgbouncer")
    if found:
        return found
    debian = Path("/usr/sbin/pgbouncer")  # Debian's, off a non-root PATH
    return str(debian) if debian.exists() else None


def through(url: str, port: int) -> str:
    """`url`'s database through the PgBouncer listening on `port`."""
    return make_url(url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _ini(directory: Path, port: int, host: str, server_port: int, pool_size: int) -> str:
    # Every database of the server (the tests make random ones), transaction pooling, trust.
    return f"""[databases]
* = host={host} port={server_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {directory}/users.txt
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 1000
logfile = {directory}/pgbouncer.log
"""


def _accepting(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def private_pgbouncer(
    host: str, server_port: int, *, user: str = "postgres", pool_size: int = 20
) -> Iterator[int]:
    """PgBouncer on a free port for the block, `pool_size` server connections per database; its port."""
    found = program()
    if found is None:
        raise FileNotFoundError("pgbouncer is not installed (Debian: apt-get install pgbouncer)")
    directory = Path(tempfile.mkdtemp(prefix="incentives-pgbouncer-"))
    port = _free_port()
    (directory / "users.txt").write_text(f'"{user}" ""\n')
    ini = directory / "pgbouncer.ini"
    ini.write_text(_ini(directory, port, host, server_port, pool_size))
    # PgBouncer will not run as root: as root it becomes `postgres` (-u), in a directory of its own.
    as_user = ["-u", "postgres"] if getpass.getuser() == "root" else []
    if as_user:
        for path in (directory, *directory.iterdir()):
            shutil.chown(path, "postgres", "postgres")
    process = subprocess.Popen(
        [found, *as_user, str(ini)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + START_SECONDS
        while not _accepting(port):
            if process.poll() is not None or time.monotonic() > deadline:
                log = directory / "pgbouncer.log"
                raise RuntimeError(f"pgbouncer did not start: {log.read_text() if log.exists() else ''}")
            time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(directory, ignore_errors=True)
