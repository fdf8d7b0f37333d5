"""incentives and the floor served inside the benchmark's own event loop (uvicorn on a loopback
socket): for counting incentives' statements with a SQLAlchemy `before_cursor_execute` listener
on the app's engine, and for the smoke test.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from adapters.driver_reads import every_statement
from api.app import create_app
from api.settings import Settings
from bench.api.floor import create_floor
from bench.api.operations import trusted_environment
from bench.api.signin import SignIn
from domain.database import create_engine
from sandbox.server import LoopbackUvicorn, tcp_listener


@asynccontextmanager
async def serving(app: ASGIApp) -> AsyncIterator[str]:
    """Serve `app` on 127.0.0.1 in this event loop for the block; yields its /graphql URL."""
    sock = tcp_listener(("127.0.0.1", 0))
    server = LoopbackUvicorn(uvicorn.Config(app, log_level="warning", access_log=False))
    server.serving = task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(30):
            while not server.started:
                if task.done():
                    await task
                    raise RuntimeError("the in-process server did not start")
                await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/graphql"
    finally:
        await server.stop()
        sock.close()


@asynccontextmanager
async def incentives_counted(database_url: str, signin: SignIn) -> AsyncIterator[tuple[str, list[str]]]:
    """incentives' app (`create_app`, as `serve` builds it) on an engine whose every cursor
    execution is appended to the yielded list."""
    scratch = tempfile.TemporaryDirectory(prefix="incentives-bench-trusted-")
    environment: dict[str, Any] = {
        **signin.environment(),
        **trusted_environment(Path(scratch.name)),
        "DATABASE_URL": database_url,
        "INCENTIVES_TAX_REMINDER_INTERVAL": 0,
        "INCENTIVES_ROLLOVER_INTERVAL": 0,  # as `servers.command` (the roll-forward's own statements)
    }
    settings = Settings.model_validate(environment)
    engine = create_engine(database_url)
    try:
        # The planned reads' statements on the driver too (SQLAlchemy's events do not see them).
        with every_statement(engine) as executed:
            async with serving(create_app(settings, engine=engine)) as url:
                yield url, executed
    finally:
        await engine.dispose()
        scratch.cleanup()


@asynccontextmanager
async def floor_in_process(database_url: str) -> AsyncIterator[str]:
    async with serving(create_floor(database_url)) as url:
        yield url
