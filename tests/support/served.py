"""Any ASGI app served by uvicorn on 127.0.0.1 at an ephemeral port, in a daemon thread.

    with serve(app) as url:              # http://127.0.0.1:<port>, lifespan run
        httpx.get(f"{url}/healthz")

uvicorn binds the port itself, so asyncio turns Nagle's algorithm off on every connection: a reply
written in two parts (headers, then body) is not held back for the client's delayed ACK (~40 ms).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import uvicorn
from starlette.types import ASGIApp

from api.graceful import api_config

START_SECONDS = 10.0


class ServedApp:
    """uvicorn serving one app on 127.0.0.1:<ephemeral> in a daemon thread."""

    def __init__(self, app: ASGIApp, *, lifespan: Literal["on", "off"] = "on") -> None:
        config = api_config(app, host="127.0.0.1", port=0, log_level="warning", lifespan=lifespan)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="served-app", daemon=True)

    def start(self) -> str:
        self._thread.start()
        deadline = time.monotonic() + START_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.005)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


@contextmanager
def serve(app: ASGIApp, *, lifespan: Literal["on", "off"] = "on") -> Iterator[str]:
    """Serve `app` for the duration of the block; yields its URL."""
    served = ServedApp(app, lifespan=lifespan)
    try:
        yield served.start()
    finally:
        served.stop()
