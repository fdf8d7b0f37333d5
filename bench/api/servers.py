"""The three servers as processes of their own: how each is started, when it is up, how much
memory it took (peak RSS of its process tree), and stopping it. Only one runs at a time.

    floor          .venv/bin/python -m bench.api.floor (uvicorn, one process)
    postgraphile   node .../postgraphile/cli.js (PostGraphile v4, installed with npm on first use)
    incentives     .venv/bin/incentives serve --port P [--workers N]
                   (with --before DIR, also DIR/.venv/bin/incentives: another checkout of it)

No server logs per request: PostGraphile runs with --disable-query-log, incentives at
INCENTIVES_LOG_LEVEL=warning (no access log), the floor with uvicorn's access log off.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
from sqlalchemy.engine import make_url

from bench.api.dataset import libpq_url

POSTGRAPHILE = "postgraphile@4.14.1"
START_SECONDS = 60.0


@dataclass(frozen=True)
class Server:
    """A server to measure: `kind` is floor, postgraphile or incentives; `name` labels its results;
    `project` is the checkout whose incentives runs (this one unless given: `--before`)."""

    name: str
    kind: str
    workers: int = 1
    project: Path | None = None
    # incentives through PgBouncer (--pgbouncer): DATABASE_URL this, the database's own URL direct.
    pooled_url: str | None = None
    # Its own copy of the data (a database name, or a SQLite path): `--before`'s, marked at its
    # checkout's newest migration, reached the same way (through the counting proxy, say).
    database: str | None = None
    # More settings of its own (`--observability`: metrics on, traces sampled), over the usual ones.
    settings: tuple[tuple[str, str], ...] = ()


FLOOR = Server("floor", "floor")
POSTGRAPHILE_SERVER = Server("postgraphile", "postgraphile")
INCENTIVES = Server("incentives", "incentives")


@dataclass(frozen=True)
class Tools:
    """Where things are: the project (its venv), PostGraphile's CLI, the sign-in environment."""

    project: Path
    postgraphile_cli: Path | None
    signin_environment: dict[str, str]

    @property
    def python(self) -> Path:
        return self.project / ".venv" / "bin" / "python"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _base_environment() -> dict[str, str]:
    # Only what a process needs to run: nothing else of ours leaks in (no SMTP settings, say).
    return {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TZ") if name in os.environ}


def command(server: Server, database_url: str, port: int, tools: Tools) -> tuple[list[str], dict[str, str]]:
    env = _base_environment()
    if server.kind == "floor":
        argv = [
            str(tools.python),
            "-m",
            "bench.api.floor",
            "--database-url",
            database_url,
            "--port",
            str(port),
        ]
        return argv, env
    if server.kind == "postgraphile":
        assert tools.postgraphile_cli is not None, "PostGraphile is not installed"
        argv = [
            "node",
            str(tools.postgraphile_cli),
            "--connection",
            libpq_url(database_url),
            "--schema",
            "public",
        ]
        argv += ["--host", "127.0.0.1", "--port", str(port), "--disable-query-log", "--disable-graphiql"]
        return argv, {**env, "NODE_ENV": "production"}
    project = server.project or tools.project
    if server.database is not None:
        database_url = (
            make_url(database_url).set(database=server.database).render_as_string(hide_password=False)
        )
    argv = [str(project / ".venv" / "bin" / "incentives"), "serve", "--port", str(port)]
    argv += ["--workers", str(server.workers)]
    pooled = {} if server.pooled_url is None else {"INCENTIVES_DIRECT_DATABASE_URL": database_url}
    return argv, {
        **env,
        "DATABASE_URL": server.pooled_url or database_url,
        **pooled,
        "INCENTIVES_TAX_REMINDER_INTERVAL": "0",
        # The fiscal-year jobs have their own benchmark (bench.fiscal_year): the roll-forward that
        # `serve` runs at start-up (rule 15) would write and read beside the measured load.
        "INCENTIVES_ROLLOVER_INTERVAL": "0",
        "INCENTIVES_LOG_LEVEL": "warning",
        # One caller sends the whole load: its budget of points (README "Limits") would throttle
        # it within seconds. Each request is still costed and charged.
        "INCENTIVES_RATE_LIMIT_POINTS": str(10**12),
        **dict(server.settings),
        **tools.signin_environment,  # last: what the caller passes wins
    }


class Running:
    """A started server process (its own process group); `url`, `peak_rss()`, `await stop()`."""

    def __init__(self, server: Server, process: subprocess.Popen[bytes], port: int, log: IO[bytes]) -> None:
        self.server = server
        self.process = process
        self.url = f"http://127.0.0.1:{port}/graphql"
        self._log = log

    def pids(self) -> list[int]:
        """The process and its children (uvicorn's workers), now."""
        return _tree(self.process.pid)

    def peak_rss(self) -> int:
        """Bytes: the sum of VmHWM over the process and its children."""
        return sum(vm_hwm(pid) for pid in self.pids())

    async def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                await asyncio.to_thread(self.process.wait, 15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                await asyncio.to_thread(self.process.wait)
        self._log.close()


async def start(server: Server, database_url: str, tools: Tools, log_path: Path) -> Running:
    """Start `server` on a free port and wait until it answers HTTP; its output goes to `log_path`."""
    port = free_port()
    argv, env = command(server, database_url, port, tools)
    log = log_path.open("ab")
    process = subprocess.Popen(  # noqa: ASYNC220 - returns at once; the wait below is async
        argv, cwd=tools.project, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    running = Running(server, process, port, log)
    try:
        await _until_answering(running, log_path)
    except BaseException:
        await running.stop()
        raise
    return running


async def _until_answering(running: Running, log_path: Path) -> None:
    async with httpx.AsyncClient(timeout=5) as http, asyncio.timeout(START_SECONDS):
        while True:
            if running.process.poll() is not None:
                raise RuntimeError(f"{running.server.name} exited at start; see {log_path}")
            try:
                await http.post(running.url, json={"query": "{ __typename }"})
                return
            except httpx.TransportError:
                await asyncio.sleep(0.2)


def _tree(pid: int) -> list[int]:
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            found += _tree(int(child))
    return found


def vm_hwm(pid: int) -> int:
    """The process's peak resident memory, in bytes (0 once it is gone)."""
    return memory(pid, "VmHWM")


def memory(pid: int, name: str) -> int:
    """A memory figure of /proc/PID/status (VmRSS, VmHWM, ...) in bytes; 0 once the process is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1]) * 1024
    return 0


def ensure_postgraphile(directory: Path) -> Path:
    """PostGraphile v4's CLI, installed with npm into `directory` (ignored by git) on first use."""
    cli = directory / "node_modules" / "postgraphile" / "cli.js"
    if not cli.exists():
        print(f"Installing {POSTGRAPHILE} with npm into {directory} (first use) ...", file=sys.stderr)
        directory.mkdir(parents=True, exist_ok=True)
        npm = ["npm", "install", "--prefix", str(directory), "--no-audit", "--no-fund", POSTGRAPHILE]
        subprocess.run(npm, check=True, stdout=subprocess.DEVNULL)
    return cli


def ensure_wrk() -> str:
    """wrk's path; when it is missing, install it with apt-get (Debian's package `wrk`), saying so."""
    return ensure_installed("wrk", "wrk")


def ensure_installed(command: str, package: str) -> str:
    """`command`'s path; when it is missing, install Debian's `package` with apt-get, saying so."""
    found = shutil.which(command)
    if found:
        return found
    print(
        f"{command} is missing: installing it with `apt-get update && apt-get install -y {package}` ...",
        file=sys.stderr,
    )
    subprocess.run(["apt-get", "update", "-qq"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True, stdout=subprocess.DEVNULL)
    found = shutil.which(command)
    if found is None:
        raise RuntimeError(f"{command} is not installed and apt-get could not install {package}")
    return found
