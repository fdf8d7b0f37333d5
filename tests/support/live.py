"""A graphql-transport-ws client for tests, on the real websocket client of `websockets`.

    async with live(api_server.url, token) as client:       # connection_init with the token, acked
        await client.subscribe("1", "subscription { enrollmentStatusChanged { id status } }")
        data = await client.next_data("1")

Every wait is bounded (`WAIT` seconds unless told), so a missing message fails the test, never hangs it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

Json = dict[str, Any]
TRANSPORT_WS = Subprotocol("graphql-transport-ws")
LEGACY_WS = Subprotocol("graphql-ws")
WAIT = 10.0


def websocket_url(http_url: str) -> str:
    """ws://127.0.0.1:<port>/graphql for the server at http://127.0.0.1:<port>."""
    return "ws" + http_url.removeprefix("http") + "/graphql"


class LiveClient:
    """One websocket connection speaking graphql-transport-ws."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    async def send(self, message: Json) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self, seconds: float = WAIT) -> Json:
        async with asyncio.timeout(seconds):
            message: Json = json.loads(await self.connection.recv())
        return message

    async def init(self, payload: Json) -> Json:
        await self.send({"type": "connection_init", "payload": payload})
        return await self.receive()

    async def subscribe(self, id: str, query: str, variables: Json | None = None) -> None:
        await self.send({"id": id, "type": "subscribe", "payload": {"query": query, "variables": variables}})

    async def next_data(self, id: str, seconds: float = WAIT) -> Json:
        """The data of the next message, which must be a `next` of operation `id` without errors."""
        message = await self.receive(seconds)
        assert message["type"] == "next", message
        assert message["id"] == id, message
        assert "errors" not in message["payload"], message
        data: Json = message["payload"]["data"]
        return data

    async def silent_for(self, seconds: float) -> None:
        """Nothing at all arrives during `seconds`."""
        try:
            message = await self.receive(seconds)
        except TimeoutError:
            return
        raise AssertionError(f"expected nothing, received {message}")

    async def closed_with(self, seconds: float = WAIT) -> tuple[int | None, str | None]:
        """(code, reason) the server closed with, after skipping whatever was still in flight."""
        async with asyncio.timeout(seconds):
            await self.connection.wait_closed()
        return self.connection.close_code, self.connection.close_reason


@asynccontextmanager
async def opened(http_url: str, subprotocol: Subprotocol = TRANSPORT_WS) -> AsyncIterator[LiveClient]:
    """A connection, not yet initialised."""
    async with connect(
        websocket_url(http_url), subprotocols=[subprotocol], open_timeout=WAIT, close_timeout=2
    ) as connection:
        yield LiveClient(connection)


@asynccontextmanager
async def live(http_url: str, token: str) -> AsyncIterator[LiveClient]:
    """A connection whose `connection_init` (Authorization: Bearer <token>) was acknowledged."""
    async with opened(http_url) as client:
        ack = await client.init({"Authorization": f"Bearer {token}"})
        assert ack["type"] == "connection_ack", ack
        yield client


async def eventually(condition: Callable[[], bool], seconds: float = WAIT) -> None:
    """Wait (polling) until `condition()` holds; fail after `seconds`."""
    # Polled: the condition is read across threads (the server runs in its own loop), no Event to await.
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.02)
