"""A private `redis-server` for one test, on a free loopback port, that can be stopped and started again.

    with private_redis(tmp_path) as redis:
        redis.url             # redis://127.0.0.1:<port>/0
        redis.stop()          # Redis goes away (the port refuses connections)
        redis.start()         # and comes back, empty, on the same port

Skips the test with a message when Debian's `redis-server` is not installed.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.ports import free_port

START_SECONDS = 20


class PrivateRedis:
    def __init__(self, executable: str, port: int, log: Path) -> None:
        self._executable = executable
        self.port = port
        self._log = log
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        # No snapshot, no append-only file: it comes back empty, as a restarted cache does.
        command = [self._executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        with self._log.open("ab") as sink:
            self._process = subprocess.Popen(
                [*command, "--appendonly", "no"], stdout=sink, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + START_SECONDS
        while not _answers(self.port):
            if self._process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"redis-server did not start:\n{self._log.read_text(errors='replace')}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=START_SECONDS)
        self._process = None


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def private_redis(directory: Path) -> Iterator[PrivateRedis]:
    executable = shutil.which("redis-server")
    if executable is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server): the outage is not tried")
    redis = PrivateRedis(executable, free_port(), directory / "redis.log")
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()
