"""api.one_write: uvicorn's httptools protocol on a real socket, its writes counted where they reach
the socket's transport: one write per answer (headers and body together), one per turn for a
streamed answer, keep-alive and pipelined requests answered in order, and a closing answer sent
whole before the connection closes."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from uvicorn.server import ServerState

from api.one_write import OneWriteHttp


async def _small(request: Request) -> Response:
    return JSONResponse({"data": {"node": {"id": request.query_params.get("id", "1")}}})


async def _streamed(request: Request) -> Response:
    async def parts() -> AsyncIterator[bytes]:
        for part in (b"first\n", b"second\n", b"third\n"):
            yield part
            await asyncio.sleep(0.01)  # each part in a turn of its own

    return StreamingResponse(parts(), media_type="text/plain")


APP = Starlette(routes=[Route("/small", _small), Route("/streamed", _streamed)])


class _Served:
    """One connection: the protocol on one end of a socket pair, the test on the other."""

    def __init__(self, protocol: OneWriteHttp, client: socket.socket, writes: list[bytes]) -> None:
        self.protocol, self.client, self.writes = protocol, client, writes

    async def send(self, data: bytes) -> None:
        await asyncio.get_running_loop().sock_sendall(self.client, data)

    async def read_until(self, ending: bytes, *, count: int = 1) -> bytes:
        loop, got = asyncio.get_running_loop(), b""
        async with asyncio.timeout(5):
            while got.count(ending) < count:
                chunk = await loop.sock_recv(self.client, 65536)
                if not chunk:
                    break
                got += chunk
        return got


async def _served(*, log_level: str = "warning") -> _Served:
    loop = asyncio.get_running_loop()
    config = uvicorn.Config(APP, http=OneWriteHttp, log_level=log_level, lifespan="off")
    config.load()
    server_end, client = socket.socketpair()
    server_end.setblocking(False)
    client.setblocking(False)
    protocol = OneWriteHttp(config=config, server_state=ServerState(), app_state={})
    transport, _ = await loop.connect_accepted_socket(lambda: protocol, server_end)
    writes: list[bytes] = []
    real_write = transport.write

    def counted(data: Any) -> None:
        writes.append(bytes(data))
        real_write(data)

    transport.write = counted  # type: ignore[method-assign]
    return _Served(protocol, client, writes)


def _request(path: str, *, close: bool = False) -> bytes:
    connection = b"close" if close else b"keep-alive"
    return b"GET " + path.encode() + b" HTTP/1.1\r\nHost: t\r\nConnection: " + connection + b"\r\n\r\n"


async def test_an_answer_is_one_write_of_its_headers_and_body() -> None:
    served = await _served()
    await served.send(_request("/small?id=7"))
    answer = await served.read_until(b"}}}")
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert answer.endswith(b'{"data":{"node":{"id":"7"}}}')
    assert served.writes == [answer]  # without api.one_write: the headers, then the body
    served.client.close()


async def test_keep_alive_and_pipelined_requests_are_answered_in_order_one_write_each() -> None:
    served = await _served()
    await served.send(_request("/small?id=1"))
    await served.read_until(b"}}}")
    await served.send(_request("/small?id=2") + _request("/small?id=3"))
    answers = await served.read_until(b"}}}", count=2)
    assert answers.index(b'"id":"2"') < answers.index(b'"id":"3"')
    assert len(served.writes) == 3
    assert all(write.startswith(b"HTTP/1.1 200 OK") for write in served.writes)
    served.client.close()


async def test_a_streamed_answer_goes_out_turn_by_turn() -> None:
    served = await _served()
    await served.send(_request("/streamed"))
    answer = await served.read_until(b"0\r\n\r\n")  # the chunked encoding's last chunk
    for part in (b"first", b"second", b"third"):
        assert part in answer
    # The headers go with the first part; each later part in its turn; the end as it comes.
    assert served.writes[0].startswith(b"HTTP/1.1 200 OK")
    assert b"first" in served.writes[0]
    assert not any(b"second" in write and b"third" in write for write in served.writes)
    served.client.close()


async def test_a_closing_answer_is_sent_whole_before_the_connection_closes() -> None:
    served = await _served()
    await served.send(_request("/small?id=9", close=True))
    answer = await served.read_until(b"\x00never")  # until the server closes
    assert answer.endswith(b'{"data":{"node":{"id":"9"}}}')
    assert b"connection: close" in answer.lower()
    assert len(served.writes) == 1
    served.client.close()


@pytest.mark.parametrize("kept", [b"", b"partial"])
async def test_abort_drops_what_is_kept_and_close_sends_it(kept: bytes) -> None:
    served = await _served()
    buffered = served.protocol.transport
    buffered.write(kept or b"whole")
    assert buffered.get_write_buffer_size() >= len(kept or b"whole")
    if kept:
        buffered.abort()
        assert served.writes == []
    else:
        buffered.close()
        assert served.writes == [b"whole"]
        assert await served.read_until(b"\x00never") == b"whole"
    served.client.close()


@pytest.mark.parametrize(("level", "logged"), [("info", True), ("warning", False)])
async def test_an_access_log_line_is_made_only_when_its_logger_takes_it(level: str, logged: bool) -> None:
    served = await _served(log_level=level)
    seen: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = seen.append  # type: ignore[method-assign,assignment]
    access = logging.getLogger("uvicorn.access")
    access.addHandler(handler)
    try:
        assert served.protocol.access_log is logged
        await served.send(_request("/small?id=5"))
        await served.read_until(b"}}}")
    finally:
        access.removeHandler(handler)
    assert len(seen) == (1 if logged else 0)
    served.client.close()
