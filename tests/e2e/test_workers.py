"""`incentives serve --workers N`: N processes, each with its own listening socket on the port.

What the kernel then does with new connections (hash them over the N sockets) is its business; what
we assert is that there are N sockets in N processes, that each answers, that a worker that dies is
replaced, and that the service stops cleanly and whole.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import Running, environment, incentives, running
from tests.support.databases import migrate
from tests.support.ports import free_port

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(sys.platform != "linux", reason="reads listening sockets from /proc (Linux)"),
]

ENTRA_SETTINGS = {
    "AZURE_CLIENT_ID": "6db6ce92-6b0f-4f7b-91a6-4bb679e133e1",
    "AZURE_TENANT_ID": "9d5bb096-9669-4518-b772-59879f03e563",
}
LISTEN = "0A"  # TCP state in /proc/net/tcp


def listeners(port: int) -> set[int]:
    """The pids of the processes with a socket listening on 127.0.0.1:`port`."""
    inodes: set[str] = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, inode = fields[1], fields[3], fields[9]
        if state == LISTEN and int(local.split(":")[1], 16) == port:
            inodes.add(f"socket:[{inode}]")
    pids: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            links = {os.readlink(fd) for fd in (entry / "fd").iterdir()}
        except OSError:  # gone, or not ours
            continue
        if links & inodes:
            pids.add(int(entry.name))
    return pids


def until(
    condition: Callable[[], bool], what: str, seconds: float = 30, output: Callable[[], str] = str
) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {seconds} s\n{output()}")
        time.sleep(0.1)


def alive(pid: int) -> bool:
    """Whether `pid` still runs (a zombie, dead but not yet reaped, does not)."""
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Running, int]]:
    port = free_port()
    env = environment(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'workers.db'}", **ENTRA_SETTINGS)
    migrate(env["DATABASE_URL"])
    with running(
        "serve", "--port", str(port), "--workers", "2", env=env, log=tmp_path / "serve.log"
    ) as process:
        process.wait_for(lambda: len(listeners(port)) == 2, "two listening workers")
        # Listening comes before the app's start-up: a worker killed in between never started.
        process.wait_for(
            lambda: process.output().count("Application startup complete") == 2, "two started workers"
        )
        process.wait_until_healthy(f"http://127.0.0.1:{port}")
        yield process, port


def test_each_worker_listens_on_the_port_itself_and_answers(served: tuple[Running, int]) -> None:
    process, port = served

    workers = listeners(port)
    answers = [httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code for _ in range(40)]

    assert len(workers) == 2
    assert process.process.pid not in workers, "the supervisor must not accept connections itself"
    assert answers == [200] * 40, process.output()


def test_a_worker_that_dies_is_replaced(served: tuple[Running, int]) -> None:
    process, port = served
    first, second = sorted(listeners(port))

    os.kill(first, signal.SIGKILL)

    until(
        lambda: len(listeners(port)) == 2 and first not in listeners(port),
        "replacement worker",
        seconds=60,  # a new process imports everything again; slow while the whole suite runs
        output=process.output,
    )
    assert second in listeners(port)
    assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_every_worker_and_exits_zero(served: tuple[Running, int], signum: int) -> None:
    process, port = served
    workers = listeners(port)

    assert process.stop(signum) == 0, process.output()
    until(lambda: not any(alive(pid) for pid in workers), "stopped workers")
    assert listeners(port) == set()


def test_workers_die_with_a_supervisor_that_is_killed(served: tuple[Running, int]) -> None:
    process, port = served
    workers = listeners(port)

    process.stop(signal.SIGKILL)

    until(lambda: not any(alive(pid) for pid in workers), "workers gone with their supervisor")


def test_a_port_already_in_use_is_refused_before_any_worker_starts(tmp_path: Path) -> None:
    env = environment(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'workers.db'}", **ENTRA_SETTINGS)
    migrate(env["DATABASE_URL"])
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        refused = incentives("serve", "--port", str(port), "--workers", "2", env=env)

    assert refused.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in refused.stderr
