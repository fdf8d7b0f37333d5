"""Running `incentives` as a real process, and talking GraphQL to it over loopback HTTP.

Every process started here is killed when its `with` block ends, whatever happened; every wait
has a deadline; output goes to a file (a full pipe would block the server) and is quoted on failure.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.trusted import manifest_file

# Settings a developer may have exported; a test names exactly the ones it means.
SETTINGS_PREFIXES = ("DATABASE_URL", "AZURE_", "INCENTIVES_")
COMMAND_SECONDS = 120
LIBFAKETIME = sorted(Path("/usr/lib").glob("*/faketime/libfaketime.so.1"))
START_SECONDS = 60
STOP_SECONDS = 30


def environment(**settings: str) -> dict[str, str]:
    """This process's environment without any incentives settings, plus `settings` (and the
    manifest of the shipped operations as the trusted documents, unless they say otherwise)."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(SETTINGS_PREFIXES)}
    return {**inherited, "INCENTIVES_TRUSTED_DOCUMENTS_FILE": str(manifest_file()), **settings}


def incentives(
    *args: str, env: Mapping[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `incentives ARGS` to completion and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=COMMAND_SECONDS,
        check=False,
    )


@dataclass
class Running:
    """A started `incentives` process and the file its output goes to."""

    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, ready: Callable[[], bool], what: str, seconds: float = START_SECONDS) -> None:
        deadline = time.monotonic() + seconds
        while not ready():
            if self.process.poll() is not None:
                pytest.fail(f"incentives exited ({self.process.returncode}) before {what}:\n{self.output()}")
            if time.monotonic() > deadline:
                pytest.fail(f"no {what} within {seconds} s:\n{self.output()}")
            time.sleep(0.1)

    def wait_until_healthy(self, base_url: str) -> None:
        self.wait_for(lambda: _answers(f"{base_url}/healthz"), f"answer from {base_url}/healthz")

    def stop(self, signum: int = signal.SIGTERM) -> int:
        """Ask the process to stop, as a service manager (SIGTERM) or Ctrl+C (SIGINT) would."""
        self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(
                f"incentives did not stop within {STOP_SECONDS} s of signal {signum}:\n{self.output()}"
            )


@contextmanager
def running(*args: str, env: Mapping[str, str], log: Path, cwd: Path | None = None) -> Iterator[Running]:
    """Start `incentives ARGS`; the process is killed on the way out if it still runs."""
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", *args],
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        yield Running(process, log)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=STOP_SECONDS)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


class GraphQL:
    """POST /graphql with a bearer token: `data(token, query, **variables)` expects no errors."""

    def __init__(self, base_url: str) -> None:
        self._client = httpx.Client(base_url=base_url, timeout=30)

    def close(self) -> None:
        self._client.close()

    def post(self, token: str, query: str, **variables: Any) -> dict[str, Any]:
        response = self._client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
        body: dict[str, Any] = response.json()
        return body

    def data(self, token: str, query: str, **variables: Any) -> dict[str, Any]:
        body = self.post(token, query, **variables)
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    def mutate(self, token: str, field: str, selection: str, **input_: Any) -> dict[str, Any]:
        """Run mutation `field` with `input_`; its payload (`selection`), which must carry no userErrors."""
        input_type = field[0].upper() + field[1:] + "Input"
        mutation = (
            f"mutation($input: {input_type}!) {{ {field}(input: $input) "
            f"{{ {selection} userErrors {{ field message code }} }} }}"
        )
        payload: dict[str, Any] = self.data(token, mutation, input=input_)[field]
        assert payload["userErrors"] == [], payload
        return payload


def error_codes(body: Mapping[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    """(path, extensions.code) of every error in a GraphQL response."""
    return [(tuple(error.get("path") or ()), error["extensions"]["code"]) for error in body.get("errors", [])]


def on_clock(at: datetime, env: Mapping[str, str]) -> dict[str, str]:
    """`env` for a process whose clock starts at `at` (UTC) and runs on, through Debian's libfaketime
    (`apt-get install faketime`); the test is skipped without it."""
    if not LIBFAKETIME:
        pytest.skip(
            "libfaketime is not installed (apt-get install faketime): a process's clock cannot be set"
        )
    # "@" starts the clock there and lets it run: a frozen clock would stop sleeps and timeouts.
    return {**env, "LD_PRELOAD": str(LIBFAKETIME[0]), "FAKETIME": f"@{at:%Y-%m-%d %H:%M:%S}", "TZ": "UTC"}
