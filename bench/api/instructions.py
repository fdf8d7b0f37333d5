"""Instructions per request, counted by valgrind's callgrind (`--instructions`): the cost of looking
(metrics on, traces sampled) as a figure that stays put on a busy machine, where requests per second
move by 15% from one minute to the next.

Each server runs alone under `valgrind --tool=callgrind --instr-atstart=no`, so that its start-up is
not counted. After a warm-up, counting is switched on (`callgrind_control -i on`), `REQUESTS`
requests of one operation are sent one after another, `SETTLE` seconds pass, and counting is
switched off; callgrind writes the counts as the process exits. Every thread of the process is
counted, the span exporter's too: the batch span processor sends its batch every 5 s by default,
so the settling inside the window takes in the export of the counted requests' spans, and the
settling before it the warm-up's. The server's idle work in those seconds is counted too, alike for
every server.

Instructions are not seconds (a cache miss costs more than an add; the database's work is not in
them): the figure is the server process's CPU work, repeatable to within a fraction of a percent,
beside the wall-clock runs of the same servers.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.api.operations import Operation, data_of
from bench.api.servers import Server, Tools, command, ensure_installed, free_port

REQUESTS = 300
WARMUP = 50
SETTLE = 6.0  # seconds: more than the batch span processor's 5 s (OTEL_BSP_SCHEDULE_DELAY)
START_SECONDS = 300.0  # the app starts some 20 times slower under callgrind
_TOTALS = re.compile(r"^(?:totals|summary): (\d+)", re.MULTILINE)


@dataclass(frozen=True)
class Counted:
    backend: str
    server: str
    operation: str
    requests: int
    instructions: int

    @property
    def per_request(self) -> float:
        return self.instructions / self.requests

    def summary(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "server": self.server,
            "operation": self.operation,
            "requests": self.requests,
            "instructions": self.instructions,
            "per_request": round(self.per_request),
        }


def ensure_valgrind() -> str:
    """valgrind's path (and its callgrind_control); Debian's `valgrind` installed when missing."""
    ensure_installed("callgrind_control", "valgrind")
    return ensure_installed("valgrind", "valgrind")


async def count(
    valgrind: str,
    backend: str,
    server: Server,
    database_url: str,
    tools: Tools,
    operation: Operation,
    token: str,
    scratch: Path,
    log_path: Path,
) -> Counted:
    """`operation`'s instructions per request on `server`, its process counted whole (see above)."""
    port = free_port()
    served, env = command(server, database_url, port, tools)  # `incentives serve --port P ...`
    python = Path(served[0]).parent / "python"  # the console script's interpreter, run by valgrind
    out = scratch / f"callgrind-{port}.out"
    argv = [valgrind, "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}"]
    argv += [str(python), "-m", "api.cli", *served[1:]]
    with log_path.open("ab") as log:
        process = subprocess.Popen(  # noqa: ASYNC220 - returns at once; the waits below are async
            argv, cwd=tools.project, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}/graphql"
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with httpx.AsyncClient(timeout=120) as http:
            await _until_answering(http, url, process, log_path)
            bodies = operation.ours
            for i in range(WARMUP):
                answer = await http.post(url, json=bodies[i % len(bodies)], headers=headers)
                data_of(answer.json())  # an answer with errors stops the run
            await asyncio.sleep(SETTLE)
            await _control("-i", "on", process.pid)
            for i in range(REQUESTS):
                await http.post(url, json=bodies[(WARMUP + i) % len(bodies)], headers=headers)
            await asyncio.sleep(SETTLE)
            await _control("-i", "off", process.pid)
    finally:
        if process.poll() is None:  # callgrind writes its counts as the process exits
            os.killpg(process.pid, signal.SIGTERM)
            await asyncio.to_thread(process.wait, 120)
    instructions = await asyncio.to_thread(_dumped, out)
    if not instructions:
        raise RuntimeError(f"callgrind dumped no counts for {server.name} {operation.name}; see {log_path}")
    return Counted(backend, server.name, operation.name, REQUESTS, instructions)


def _dumped(out: Path) -> int:
    """The instructions counted: in OUT, written at exit, and in any dump before it (OUT.1, ...).
    Only the window was counted (`--instr-atstart=no`)."""
    total = 0
    for path in out.parent.glob(f"{out.name}*"):
        # "totals:" at the end of a file, "summary:" at its head (0 in a file written at exit)
        total += max(map(int, _TOTALS.findall(path.read_text(encoding="utf-8", errors="replace"))), default=0)
    return total


async def _control(*args: object) -> None:
    process = await asyncio.create_subprocess_exec(
        "callgrind_control",
        *map(str, args),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    if await process.wait() != 0:
        raise RuntimeError(f"callgrind_control {' '.join(map(str, args))} failed")


async def _until_answering(
    http: httpx.AsyncClient, url: str, process: subprocess.Popen[bytes], log_path: Path
) -> None:
    async with asyncio.timeout(START_SECONDS):
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited under callgrind; see {log_path}")
            try:
                await http.post(url, json={"query": "{ __typename }"})
                return
            except httpx.TransportError:
                await asyncio.sleep(1.0)


def ratios(counted: list[Counted]) -> list[dict[str, Any]]:
    """Each server's instructions per request over plain incentives' (everything off), same backend
    and operation."""
    plain = {(c.backend, c.operation): c.per_request for c in counted if c.server == "incentives"}
    found = []
    for c in counted:
        off = plain.get((c.backend, c.operation))
        entry = c.summary()
        if off:
            entry["on/off"] = c.per_request / off
        found.append(entry)
    return found


def table(entries: list[dict[str, Any]]) -> str:
    lines = [
        "| backend | operation | server | instructions per request | on/off |",
        "|---|---|---|---:|---:|",
    ]
    for e in entries:
        ratio = f"{e['on/off']:.3f}" if "on/off" in e else "n/a"
        lines.append(
            f"| {e['backend']} | {e['operation']} | {e['server']} | {e['per_request']:,} | {ratio} |"
        )
    return "\n".join(lines)
