"""uvicorn's HTTP protocol (httptools), its writes within one turn of the event loop sent together.

uvicorn writes an answer's status line and headers when the app sends `http.response.start`, and
its body at `http.response.body`: two `send` calls on the socket, two TCP segments, and on loopback
(a proxy, a sidecar, the benchmark) the whole receive path run twice in the sender's time. Both
messages are sent in the same turn of the loop (Starlette's Response awaits them back to back, and
uvicorn's `send` does not suspend unless the peer is slow to read), so the protocol here hands
uvicorn a transport whose `write` keeps what it is given until the end of the turn (`call_soon`)
and then sends it as one. A response streamed over several turns (a subscription over SSE, say)
still goes out turn by turn; nothing waits for more than the loop's next step.

    uvicorn.Config(app, http=OneWriteHttp)      # api.graceful.server_config

The transport passes everything else through; `close` sends what is kept first, `abort` drops it
(as the transport's own does with its buffer), and the buffered size counts toward flow control.

The protocol also skips building an access-log line that its logger would drop: uvicorn formats
each request's path (`urllib.parse.quote`) before asking the logger, which at INCENTIVES_LOG_LEVEL
warning (the benchmark's, and many deployments') throws it away.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class TurnBufferedTransport:
    """`transport`, its writes within one turn of `loop` sent with one `write`."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._kept: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._kept:
            self._loop.call_soon(self.flush)
        self._kept.append(bytes(data))

    def writelines(self, lines: Any) -> None:
        for data in lines:
            self.write(data)

    def flush(self) -> None:
        """Send what this turn wrote, as one write."""
        kept = self._kept
        if kept:
            self._kept = []
            self._transport.write(kept[0] if len(kept) == 1 else b"".join(kept))

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._kept = []
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._kept))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class OneWriteHttp(HttpToolsProtocol):
    """uvicorn's httptools protocol over a `TurnBufferedTransport`, its access log written only
    when its logger takes INFO."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.access_log = self.access_log and self.access_logger.isEnabledFor(logging.INFO)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        buffered: Any = TurnBufferedTransport(transport, self.loop)
        super().connection_made(buffered)
