"""The attacks of the hardening issue, against a real `incentives serve`, with what each costs.

    python -m bench.attacks [--project DIR]   # a table: each attack's answer, seconds, server RSS

`--project` serves another checkout's `incentives` (its .venv), e.g. an older commit, to compare.

A fresh SQLite file is seeded with the API benchmark's data (20 organizations of 50 locations, 6
enrollments each) and served by `incentives serve` (one worker) trusting the sandbox's loopback
Entra, which mints the tokens: the Global admin of organization 10, and strangers of new tenants.
For each attack it reports what the server answered, how long it took, how long an innocent
request sent meanwhile waited, and the server's peak RSS. It measures; it asserts nothing (the
tests do: tests/api/test_limits.py, test_request_bounds.py, test_hardening.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

from bench.api.dataset import Scale, seed, sqlite_database, viewer_of
from bench.api.servers import Server, Tools, start, vm_hwm
from bench.api.signin import API_CLIENT_ID, OPERATOR_TENANT_ID, mint_for
from sandbox.entra import LoopbackEntra, LoopbackEntraServer, new_tenant_id

PROJECT = Path(__file__).resolve().parent.parent
INNOCENT = "{ viewer { objectId } }"
DASHBOARD = """{ viewer { organization { locations(first: 50) { edges { node { partnerId name
  enrollments(first: 5) { edges { node { status fiscalYear program { code name } } } } } } } } } }"""


def bomb(levels: int) -> str:
    fragments = ["fragment F0 on Viewer { objectId }"]
    fragments += [f"fragment F{i} on Viewer {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels)]
    return f"{{ viewer {{ ...F{levels - 1} }} }} " + " ".join(fragments)


def wide(aliases: int) -> str:
    """Aliases x three nested connections of 100."""
    one = """organization { locations(first: 100) { edges { node { enrollments(first: 100) { edges { node {
      location { enrollments(first: 100) { edges { node { id status } } } } } } } } } } }"""
    return "{ " + " ".join(f"a{i}: viewer {{ {one} }}" for i in range(aliases)) + " }"


class Target:
    def __init__(self, url: str, token: str, entra: LoopbackEntra, pid: Callable[[], list[int]]) -> None:
        self.url = url
        self.token = token
        self.entra = entra
        self.pids = pid

    def headers(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token}"}

    def rss_mb(self) -> float:
        return sum(vm_hwm(pid) for pid in self.pids()) / 2**20


def summary(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code} {response.text[:60]!r}"
    errors = body.get("errors") or []
    size = f"({len(response.content):,} bytes)"
    if not errors:
        data = json.dumps(body.get("data"), separators=(",", ":"))
        return f"{response.status_code} {data[:70]!r} {size}"
    code = (errors[0].get("extensions") or {}).get("code")
    return f"{response.status_code} {code} {errors[0]['message'][:70]!r} {size}"


async def timed(
    http: httpx.AsyncClient,
    target: Target,
    send: Callable[[], Coroutine[Any, Any, str]],
    *,
    innocent: bool = True,
) -> tuple[str, float, float | None]:
    """(what the attack got, its seconds, how long an innocent request sent 0.2 s later took)."""

    async def clocked() -> tuple[str, float]:
        started = time.monotonic()
        got = await send()
        return got, time.monotonic() - started

    attack = asyncio.create_task(clocked())
    waited = None
    if innocent:
        await asyncio.sleep(0.2)
        before = time.monotonic()
        await http.post(target.url, json={"query": INNOCENT}, headers=target.headers(), timeout=300)
        waited = time.monotonic() - before
    got, seconds = await attack
    return got, seconds, waited


async def attacks(target: Target) -> list[tuple[str, str, float, float | None, float]]:
    rows = []
    async with httpx.AsyncClient(timeout=300) as http:

        async def post(query: str, variables: Any = None, token: str | None = None) -> str:
            body = {"query": query, "variables": variables or {}}
            return summary(await http.post(target.url, json=body, headers=target.headers(token)))

        async def raw(content: bytes) -> str:
            headers = {**target.headers(), "Content-Type": "application/json"}
            return summary(await http.post(target.url, content=content, headers=headers))

        stranger = target.entra.mint(
            tenant_id=new_tenant_id(), object_id=new_tenant_id(), audience=API_CLIENT_ID, name="Stranger"
        )
        cases: list[tuple[str, Callable[[], Coroutine[Any, Any, str]]]] = [
            ("fragment bomb, 20 levels (a stranger)", lambda: post(bomb(20), token=stranger)),
            ("fragment bomb, 23 levels (a stranger)", lambda: post(bomb(23), token=stranger)),
            ("10 aliases x 3 nested connections of 100", lambda: post(wide(10))),
            (
                "50 x addLocation in one request",
                lambda: post(
                    "mutation { "
                    + " ".join(
                        f'a{i}: addLocation(input: {{name: "Attack {i}", country: "DE", '
                        "partnerType: DIRECT_RESELLER}) { userErrors { code } }"
                        for i in range(50)
                    )
                    + " }"
                ),
            ),
            ("a 50 MB body", lambda: raw(json.dumps({"query": INNOCENT + " " * 50_000_000}).encode())),
            (
                "a variable of 2,000,000 ids",
                lambda: post("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ["x"] * 2_000_000}),
            ),
            ("JSON body 42", lambda: raw(b"42")),
            ("JSON body null", lambda: raw(b"null")),
            ("invalid UTF-8", lambda: raw(b'{"query": "\xff"}')),
            ("JSON nested 5,000 deep", lambda: raw(b"[" * 5000 + b"]" * 5000)),
            (
                "a cursor holding a 26-digit key",
                lambda: post(
                    "query($c: String) { programs(after: $c) { totalCount } }",
                    {"c": "azo5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5"},
                ),
            ),
            (
                "an unknown enum value",
                lambda: post(
                    "query($s: EnrollmentStatus) { enrollments(status: $s) { totalCount } }", {"s": "NOPE"}
                ),
            ),
            (
                "an Int of 2^63",
                lambda: post("query($n: Int) { programs(first: $n) { totalCount } }", {"n": 2**63}),
            ),
            (
                "a location named with NUL",
                lambda: post(
                    'mutation { addLocation(input: {name: "A\\u0000B", country: "DE", '
                    "partnerType: DIRECT_RESELLER}) { userErrors { code } } }"
                ),
            ),
            (
                "a location named with a lone surrogate",
                lambda: raw(
                    b'{"query": "mutation($n: String!) { addLocation(input: {name: $n, country: \\"DE\\", '
                    b'partnerType: DIRECT_RESELLER}) { userErrors { code } } }", '
                    b'"variables": {"n": "A\\ud800"}}'
                ),
            ),
            ("introspection by a stranger", lambda: post("{ __schema { types { name } } }", token=stranger)),
            ("a misspelt field (suggestions?)", lambda: post("{ viewr { objectId } }")),
        ]
        for name, send in cases:
            try:
                got, seconds, waited = await timed(http, target, send)
            except httpx.HTTPError as error:
                got, seconds, waited = f"transport error {error!r}", float("nan"), None
            rows.append((name, got, seconds, waited, target.rss_mb()))
            print(f"  {name}: {got} in {seconds:.2f} s", file=sys.stderr, flush=True)

        async def dashboards() -> str:
            statuses = [
                (await http.post(target.url, json={"query": DASHBOARD}, headers=target.headers())).status_code
                for _ in range(120)
            ]
            return f"{statuses.count(200)} answered, {statuses.count(429)} got 429"

        got, seconds, waited = await timed(http, target, dashboards, innocent=False)
        rows.append(
            ("120 dashboards (1,152 points each) from one caller", got, seconds, waited, target.rss_mb())
        )

        async def forged() -> str:
            before = target.entra.request_count("jwks") + target.entra.request_count("discovery")
            statuses = []
            for _ in range(200):
                token = target.entra.mint(
                    tenant_id=new_tenant_id(), object_id=new_tenant_id(), audience=API_CLIENT_ID
                )
                statuses.append(
                    (
                        await http.post(target.url, json={"query": INNOCENT}, headers=target.headers(token))
                    ).status_code
                )
            fetched = target.entra.request_count("jwks") + target.entra.request_count("discovery") - before
            answered, refused = statuses.count(200), statuses.count(401)
            return f"{answered} answered, {refused} refused; {fetched} requests to the issuer"

        got, seconds, waited = await timed(http, target, forged, innocent=False)
        rows.append(("200 tokens of 200 new tenants", got, seconds, waited, target.rss_mb()))

    rows.append(await trickle(target))
    rows.append(await idle_sockets(target))
    rows.append(await big_frame(target))
    return rows


async def trickle(target: Target) -> tuple[str, str, float, float | None, float]:
    host, port = target.url.split("//")[1].split("/")[0].split(":")
    started = time.monotonic()
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {target.token}\r\nContent-Length: 1000\r\n\r\n".encode()
    )
    answer = b""
    try:
        for _ in range(30):  # a byte a second, up to 30 s
            writer.write(b" ")
            await writer.drain()
            try:
                answer = await asyncio.wait_for(reader.read(200), 1.0)
            except TimeoutError:
                continue
            if answer:
                break
    except ConnectionError as error:
        answer = repr(error).encode()
    writer.close()
    got = answer.split(b"\r\n")[0].decode(errors="replace") or "still open after 30 s"
    return ("a body trickling at 1 byte/s", got, time.monotonic() - started, None, target.rss_mb())


async def idle_sockets(target: Target) -> tuple[str, str, float, float | None, float]:
    ws_url = "ws" + target.url.removeprefix("http")
    opened = []
    started = time.monotonic()
    for _ in range(200):
        opened.append(await connect(ws_url, subprotocols=["graphql-transport-ws"]))  # type: ignore[list-item]
    await asyncio.sleep(7)
    still = sum(1 for c in opened if c.close_code is None)
    for c in opened:
        await c.close()
    return (
        "200 websockets that never send connection_init",
        f"{still} still open after 7 s",
        time.monotonic() - started,
        None,
        target.rss_mb(),
    )


async def big_frame(target: Target) -> tuple[str, str, float, float | None, float]:
    ws_url = "ws" + target.url.removeprefix("http")
    started = time.monotonic()
    async with connect(ws_url, subprotocols=["graphql-transport-ws"], max_size=None) as c:  # type: ignore[list-item]
        await c.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {target.token}"}})
        )
        await c.recv()
        try:
            await c.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": " " * 10_000_000}}))
            await asyncio.wait_for(c.wait_closed(), 10)
            got = f"closed {c.close_code}"
        except TimeoutError:
            got = "accepted, still open"
    return ("a 10 MB websocket frame", got, time.monotonic() - started, None, target.rss_mb())


async def main(project: Path) -> None:
    scale = Scale(organizations=20)
    entra = LoopbackEntra()
    with tempfile.TemporaryDirectory() as scratch, LoopbackEntraServer(entra) as issuer:
        async with sqlite_database(Path(scratch)) as url:
            await seed(url, scale, datetime.now(UTC).date())
            token = mint_for(entra, viewer_of(10))
            env = {
                "AZURE_CLIENT_ID": API_CLIENT_ID,
                "AZURE_TENANT_ID": OPERATOR_TENANT_ID,
                "AZURE_AUTHORITY_HOST": issuer.base_url,
                "INCENTIVES_RATE_LIMIT_POINTS": "100000",  # the default, which the API benchmark lifts
            }
            tools = Tools(project, None, env)
            running = await start(Server("incentives", "incentives"), url, tools, Path(scratch) / "serve.log")
            try:
                target = Target(running.url, token, entra, running.pids)
                rows = await attacks(target)
            finally:
                await running.stop()
    print("| attack | answer | seconds | an innocent request waited (s) | server peak RSS MB |")
    print("|---|---|---:|---:|---:|")
    for name, got, seconds, waited, rss in rows:
        innocent = "" if waited is None else f"{waited:.2f}"
        print(f"| {name} | {got.replace('|', '/')} | {seconds:.2f} | {innocent} | {rss:.0f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.attacks", description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=PROJECT, help="the checkout whose server to attack")
    socket.setdefaulttimeout(300)
    asyncio.run(main(parser.parse_args().project.resolve()))
