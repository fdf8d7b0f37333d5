"""Running a `LoopbackEntra`: uvicorn on a background thread, or inside a running event loop.

Both bind a loopback socket first (anything else is a `ValueError`) and call
`entra.set_base(base_url)` once the port is known. `sandbox.entra` re-exports these names.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Generator
from types import TracebackType
from typing import Protocol

import uvicorn
from starlette.types import ASGIApp

from auth.keys import is_loopback_host


class LoopbackEntra(Protocol):
    """What a runner needs of `sandbox.entra.LoopbackEntra`: its app, and where it is served."""

    @property
    def app(self) -> ASGIApp: ...

    @property
    def base_url(self) -> str: ...

    def set_base(self, url: str) -> None: ...


class LoopbackUvicorn(uvicorn.Server):
    """A uvicorn server that leaves signals to the process; `await stop()` when served in-loop."""

    serving: asyncio.Task[None] | None = None

    # Whoever started this server stops it; leave Ctrl+C and SIGTERM to the process's own handlers.
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    async def stop(self) -> None:
        self.should_exit = True
        if self.serving is not None:
            await self.serving


def tcp_listener(address: tuple[str, int], family: socket.AddressFamily = socket.AF_INET) -> socket.socket:
    """A listening TCP socket, made with its protocol named (unlike `socket.create_server`), so that
    asyncio switches Nagle's algorithm off on the connections it accepts: otherwise a response
    written in two parts (headers, then body) waits ~40 ms for the client's delayed ACK."""
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen()
    except OSError:
        sock.close()
        raise
    return sock


def _bind(host: str, port: int) -> tuple[socket.socket, str]:
    """A listening socket on a loopback host, and the base URL it is reachable at."""
    if not is_loopback_host(host):
        raise ValueError(f"the loopback sign-in service serves loopback hosts only, not {host!r}")
    bare = host.strip("[]")
    family, _, _, _, address = socket.getaddrinfo(bare, port, type=socket.SOCK_STREAM)[0]
    if not is_loopback_host(str(address[0])):
        raise ValueError(f"{host!r} does not resolve to a loopback address")
    sock = tcp_listener((str(address[0]), int(address[1])), family)
    url_host = f"[{bare}]" if ":" in bare else bare
    return sock, f"http://{url_host}:{sock.getsockname()[1]}"


def _server_for(entra: LoopbackEntra) -> LoopbackUvicorn:
    config = uvicorn.Config(entra.app, lifespan="off", log_level="warning", access_log=False)
    return LoopbackUvicorn(config)


class LoopbackEntraServer:
    """Serves a `LoopbackEntra` with uvicorn on a background thread: `start()`, `.base_url`, `stop()`;
    also a context manager."""

    def __init__(self, entra: LoopbackEntra, host: str = "127.0.0.1", port: int = 0) -> None:
        if not is_loopback_host(host):
            raise ValueError(f"the loopback sign-in service serves loopback hosts only, not {host!r}")
        self.entra = entra
        self._host = host
        self._port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def base_url(self) -> str:
        return self.entra.base_url

    def start(self, timeout: float = 10) -> LoopbackEntraServer:
        if self._thread is not None:
            raise RuntimeError("already started")
        self._socket, base_url = _bind(self._host, self._port)
        self.entra.set_base(base_url)
        self._server = server = _server_for(self.entra)
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [self._socket]}, name="loopback-entra", daemon=True
        )
        self._thread.start()
        self._wait_started(server, self._thread, timeout)
        return self

    def stop(self, timeout: float = 10) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> LoopbackEntraServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @staticmethod
    def _wait_started(server: uvicorn.Server, thread: threading.Thread, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                raise RuntimeError("the loopback sign-in service did not start")
            time.sleep(0.01)


async def serve_loopback(
    entra: LoopbackEntra, host: str = "127.0.0.1", port: int = 0
) -> tuple[LoopbackUvicorn, str]:
    """Serve `entra` in the running event loop; returns the server (`await server.stop()`, or set
    `server.should_exit = True`) and its base URL."""
    sock, base_url = _bind(host, port)
    entra.set_base(base_url)
    server = _server_for(entra)
    server.serving = task = asyncio.create_task(server.serve(sockets=[sock]))
    task.add_done_callback(lambda _: sock.close())
    while not server.started:
        if task.done():
            await task
            raise RuntimeError("the loopback sign-in service did not start")
        await asyncio.sleep(0.01)
    return server, base_url
