"""A PostgreSQL wire proxy that counts what a server asks the database to execute.

Every server under test (the floor on asyncpg, PostGraphile on node-postgres, incentives on
SQLAlchemy + asyncpg) is pointed at the proxy once, outside the timed runs; the proxy forwards
bytes both ways and reads the client's messages: a simple `Query` ('Q') is one statement, an
extended-protocol `Execute` ('E') of a portal is one statement (its SQL comes from the `Parse` and
`Bind` that made the portal). Pings, BEGIN and ROLLBACK count too: they are round trips. The
proxy refuses TLS itself (it must read the messages), so clients that prefer TLS speak plain.

    async with CountingProxy(("127.0.0.1", 5432)) as proxy:      # proxy.port to connect to
        before = len(proxy.executed)
        ...                                                    # requests through the server
        statements = proxy.executed[before:]
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from types import TracebackType

_ENCRYPTION_REQUESTS = {80877103, 80877104}  # SSLRequest, GSSENCRequest: answered "N" here
CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SET ", "RESET", "SAVEPOINT", "RELEASE", "DISCARD", "START", "END")


def is_control(sql: str) -> bool:
    """Transaction and session control, and empty pings (`;`): round trips that read no data."""
    head = sql.strip().lstrip(";").strip().upper()
    return not head or head.startswith(CONTROL) or head.startswith("SELECT SET_CONFIG")


class _Session:
    """One client connection's prepared statements and portals."""

    def __init__(self, executed: list[str]) -> None:
        self.executed = executed
        self.statements: dict[str, str] = {}
        self.portals: dict[str, str] = {}

    def message(self, kind: bytes, payload: bytes) -> None:
        if kind == b"Q":
            self.executed.append(_cstrings(payload, 1)[0])
        elif kind == b"P":
            name, sql = _cstrings(payload, 2)
            self.statements[name] = sql
        elif kind == b"B":
            portal, statement = _cstrings(payload, 2)
            self.portals[portal] = statement
        elif kind == b"E":
            portal = _cstrings(payload, 1)[0]
            self.executed.append(self.statements.get(self.portals.get(portal, ""), "?"))


def _cstrings(payload: bytes, count: int) -> list[str]:
    parts = payload.split(b"\0", count)
    return [part.decode("utf-8", "replace") for part in parts[:count]]


class CountingProxy:
    """Listens on 127.0.0.1 at an ephemeral `port`; `executed` lists the SQL of every statement."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.executed: list[str] = []
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> CountingProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            server_in, server_out = await asyncio.open_connection(*self.upstream)
            session = _Session(self.executed)
            upstream = asyncio.create_task(_from_client(client_in, client_out, server_out, session))
            downstream = asyncio.create_task(_pipe(server_in, client_out))
            await asyncio.wait({upstream, downstream}, return_when=asyncio.FIRST_COMPLETED)
            for half in (upstream, downstream):
                half.cancel()
            for writer in (server_out, client_out):
                writer.close()
        except (OSError, asyncio.IncompleteReadError):
            client_out.close()
        finally:
            self._tasks.discard(task)


async def _from_client(
    reader: asyncio.StreamReader,
    client: asyncio.StreamWriter,
    writer: asyncio.StreamWriter,
    session: _Session,
) -> None:
    with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
        while True:  # untyped startup messages, up to the StartupMessage itself
            header = await reader.readexactly(4)
            body = await reader.readexactly(struct.unpack("!i", header)[0] - 4)
            if struct.unpack("!i", body[:4])[0] in _ENCRYPTION_REQUESTS:
                client.write(b"N")
                continue
            writer.write(header + body)
            await writer.drain()
            break
        while True:
            kind = await reader.readexactly(1)
            length = await reader.readexactly(4)
            payload = await reader.readexactly(struct.unpack("!i", length)[0] - 4)
            session.message(kind, payload)
            writer.write(kind + length + payload)
            await writer.drain()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
