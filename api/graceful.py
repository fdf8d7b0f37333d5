"""uvicorn's server, stopping as CONTRACT 6.5 says on SIGTERM (or Ctrl-C):

1. at the signal, /readyz answers 503 (`Draining.begin`) and the background loops start stopping:
   the outbox sender and the batch jobs end at a batch boundary and give up their leases at once;
2. for the readiness window (INCENTIVES_SHUTDOWN_WINDOW_SECONDS, at least 1 s) the listener stays
   open and new connections are still served, so a load balancer polling /readyz sees the 503
   before a connection is refused;
3. websockets are closed with 1001, the listener closes (new connections are refused), and the
   requests already accepted finish within what is left of INCENTIVES_SHUTDOWN_GRACE_SECONDS
   (uvicorn's own graceful shutdown); then the app's lifespan ends and the process exits 0.

uvicorn alone closes the listener at the signal and closes websockets with 1012.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

import uvicorn
from starlette.types import ASGIApp

from api.draining import Draining
from api.guard import MAX_WEBSOCKET_MESSAGE_BYTES
from api.one_write import OneWriteHttp

logger = logging.getLogger("incentives.api")

# Kept from the grace for the lifespan's end (loops, the event bus, the engine) after the requests.
LIFESPAN_SECONDS = 2.0


@dataclass(frozen=True)
class Stopping:
    """How a server stops: the whole grace, and the readiness window at its start (seconds)."""

    grace: float
    window: float

    @property
    def drain(self) -> int:
        """Whole seconds requests already accepted may still run once the listener is closed."""
        return max(1, int(self.grace - self.window - LIFESPAN_SECONDS))


def api_config(app: object, **settings: object) -> uvicorn.Config:
    """uvicorn's settings as every server of the API runs it (`serve`, the demo, the tests' served
    apps): each answer in one write (`api.one_write`), websocket messages bounded."""
    return uvicorn.Config(
        app,  # type: ignore[arg-type]
        http=OneWriteHttp,
        ws_max_size=MAX_WEBSOCKET_MESSAGE_BYTES,
        **settings,  # type: ignore[arg-type]
    )


def server_config(
    app: str | Callable[[], ASGIApp],
    stopping: Stopping,
    log_level: str,
    log_format: str = "text",
    **where: object,
) -> uvicorn.Config:
    """uvicorn's settings for the app factory `app`, its import string or itself (host and port, or
    none when given sockets).
    Under JSON logs uvicorn leaves its loggers to ours (`api.logs.configure_logging`)."""
    json_logs = {"log_config": None} if log_format == "json" else {}
    return api_config(
        app,
        factory=True,
        log_level=log_level,
        **json_logs,
        timeout_graceful_shutdown=stopping.drain,
        **where,
    )


class GracefulServer(uvicorn.Server):
    """A uvicorn server that drains as the module docstring says."""

    def __init__(self, config: uvicorn.Config, stopping: Stopping) -> None:
        super().__init__(config)
        self._stopping = stopping
        self._background: asyncio.Future[None] | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        draining = self._draining()
        if draining is not None:
            draining.begin()  # /readyz answers 503 from the signal on, not from the next tick
        super().handle_exit(sig, frame)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        draining = self._draining()
        if draining is not None and not self.force_exit:
            draining.begin()
            self._background = asyncio.ensure_future(draining.stop_background())
            logger.info(
                "stopping: /readyz answers 503; new connections are refused in %.1f s, "
                "requests in flight have %d s more",
                self._stopping.window,
                self._stopping.drain,
            )
            await asyncio.sleep(self._stopping.window)
            await draining.close_websockets()
        await super().shutdown(sockets)

    def _draining(self) -> Draining | None:
        lifespan = getattr(self, "lifespan", None)
        services = None if lifespan is None else lifespan.state.get("services")
        return None if services is None else services.draining


def run(server: uvicorn.Server, sockets: list[socket.socket] | None = None) -> None:
    """Run `server` until SIGTERM or SIGINT and its graceful end; returns normally after either."""
    # uvicorn raises the signal again once it has stopped: as KeyboardInterrupt, not a kill by SIGTERM.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=sockets)
