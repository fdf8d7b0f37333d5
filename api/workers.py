"""`incentives serve --workers N`: N uvicorn processes, each listening on the port with SO_REUSEPORT.

uvicorn's own `--workers` binds one socket in the parent and lets every child accept from it; under
load the busiest process wins nearly every accept, so a second worker added no throughput. Here each
worker binds the port itself with SO_REUSEPORT: the kernel keeps one queue per worker and hashes each
new connection to one of them, so connections spread evenly and no worker starves.

The parent only supervises. It forwards SIGINT and SIGTERM (each worker shuts down gracefully and
the parent exits 0), replaces a worker that dies while serving, and stops them all when a worker fails
to start, which is then the command's failure.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event
from types import FrameType
from typing import TYPE_CHECKING

from api.entry import CommandError

if TYPE_CHECKING:  # uvicorn is imported by the workers only
    from api.graceful import Stopping

log = logging.getLogger("incentives.api")

APP = "api.entry:app_from_environment"
BACKLOG = 2048  # uvicorn's default
STOP_MARGIN_SECONDS = 5.0  # past the shutdown grace, a worker still running is killed
POLL_SECONDS = 0.2
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


@dataclass(frozen=True)
class Listen:
    host: str
    port: int
    log_level: str
    stopping: Stopping
    log_format: str = "text"


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket listening on (host, port) in the port's SO_REUSEPORT group."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    sock.listen(BACKLOG)
    sock.set_inheritable(True)
    return sock


def require_free_port(host: str, port: int) -> None:
    """Fail now if anything listens on the port: SO_REUSEPORT would otherwise quietly share it."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            raise CommandError(f"cannot listen on {host}:{port}: {error.strerror}") from None


def _serve_one(listen: Listen, ready: Event, supervisor: int) -> None:
    """One worker: its own socket on the shared port, one uvicorn server on it; `ready` once it serves."""
    from api import graceful

    _die_with_parent(supervisor)

    class Server(graceful.GracefulServer):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:
                ready.set()

    server = Server(
        graceful.server_config(APP, listen.stopping, listen.log_level, listen.log_format), listen.stopping
    )
    graceful.run(server, sockets=[listening_socket(listen.host, listen.port)])
    if not server.started:
        sys.exit(3)


def _die_with_parent(supervisor: int) -> None:
    """Ask Linux to send SIGTERM here when the supervisor dies, even by SIGKILL: no orphan keeps the port."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != supervisor:  # it died before we asked
        sys.exit(0)


class Workers:
    """The running workers, kept at `count` until `stop()`."""

    def __init__(self, listen: Listen, count: int, exited: Callable[[int], None] = lambda pid: None) -> None:
        self._listen = listen
        self._count = count
        self._exited = exited  # told each worker's pid once it is gone (api.metrics)
        self._context = multiprocessing.get_context("spawn")
        self._running: list[tuple[BaseProcess, Event]] = []
        self._stopping = False

    def run(self) -> int:
        """Serve until SIGINT or SIGTERM; 0 after a graceful stop, 1 when a worker could not start."""
        require_free_port(self._listen.host, self._listen.port)
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            for _ in range(self._count):
                self._start()
            log.info(
                "serving http://%s:%d with %d workers (pid %d supervises)",
                self._listen.host,
                self._listen.port,
                self._count,
                os.getpid(),
            )
            while not self._stopping:
                if not self._replace_exited():
                    self._stop_all()
                    return 1
                time.sleep(POLL_SECONDS)
            self._stop_all()
            return 0
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._stopping = True

    def _start(self) -> None:
        ready = self._context.Event()
        process = self._context.Process(
            target=_serve_one, args=(self._listen, ready, os.getpid()), name="incentives-worker"
        )
        process.start()
        self._running.append((process, ready))

    def _replace_exited(self) -> bool:
        """Start a new worker for each that died while serving; False if one failed to start."""
        for entry in list(self._running):
            process, ready = entry
            if process.is_alive():
                continue
            self._running.remove(entry)
            self._gone(process)
            if not ready.is_set():
                log.error("worker %s could not start (exit code %s)", process.pid, process.exitcode)
                return False
            log.warning("worker %s exited (code %s); starting another", process.pid, process.exitcode)
            self._start()
        return True

    def _stop_all(self) -> None:
        for process, _ in self._running:
            if process.is_alive():
                process.terminate()  # SIGTERM: the worker drains (api.graceful), then exits
        seconds = self._listen.stopping.grace + STOP_MARGIN_SECONDS
        deadline = time.monotonic() + seconds
        for process, _ in self._running:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                log.warning("worker %s did not stop in %.0f s; killing it", process.pid, seconds)
                process.kill()
                process.join()
            self._gone(process)
        self._running.clear()

    def _gone(self, process: BaseProcess) -> None:
        if process.pid is not None:
            self._exited(process.pid)


def serve_workers(listen: Listen, count: int, exited: Callable[[int], None] = lambda pid: None) -> int:
    """Run `count` workers on `listen` until stopped; the exit code for `incentives serve`.
    `exited` is told the pid of each worker that ends."""
    from api.logs import configure_logging

    configure_logging(listen.log_level, listen.log_format)
    return Workers(listen, count, exited).run()
