"""While the database is away: 503 with a JSON body (`UNAVAILABLE`), `Retry-After` and the request id,
from sign-in on; nothing logged as a crash; and answers again once it is back.

The database is a PostgreSQL cluster of the test's own (initdb into a temporary directory, on a
free port), stopped and started under load: the shared server on 5432 is never touched.
"""

from __future__ import annotations

import contextlib
import getpass
import logging
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import personas
from tests.support.configured_api import configured_api
from tests.support.databases import migrate
from tests.support.entra import RunningEntra
from tests.support.ports import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

REGISTER = """mutation { registerOrganization(input: {legalName: "Outage Ltd", country: "DE"}) {
  organization { id } userErrors { code } } }"""
READ = "{ viewer { organization { legalName locations(first: 5) { totalCount } } } }"


class PrivatePostgres:
    def __init__(self, bin_dir: Path, data: Path, port: int, as_user: list[str]) -> None:
        self._pg_ctl = str(bin_dir / "pg_ctl")
        self._data = data
        self.port = port
        self._as_user = as_user

    def _run(self, *argv: str) -> None:
        subprocess.run([*self._as_user, *argv], check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self._data}"
        log = str(self._data / "server.log")  # not our pipes: the server outlives pg_ctl
        self._run(self._pg_ctl, "-D", str(self._data), "-l", log, "-o", options, "-w", "start")

    def stop(self) -> None:
        self._run(self._pg_ctl, "-D", str(self._data), "-m", "fast", "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"


def _bin_dir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    bin_dir = _bin_dir()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server programs (initdb, pg_ctl) here: the outage is not tried")
    # PostgreSQL will not run as root: as root, run it as the `postgres` user, in a directory of
    # its own (pytest's temporary directories are root's alone).
    as_user = ["runuser", "-u", "postgres", "--"] if getpass.getuser() == "root" else []
    data = Path(tempfile.mkdtemp(prefix="incentives-outage-"))
    if as_user:
        shutil.chown(data, "postgres", "postgres")
    subprocess.run(
        [*as_user, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    cluster = PrivatePostgres(bin_dir, data, free_port(), as_user)
    cluster.start()
    try:
        migrate(cluster.url)
        yield cluster
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            cluster.stop()
        shutil.rmtree(data, ignore_errors=True)


def _unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
    assert "asyncpg" not in response.text
    assert "Connection" not in response.text
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["X-Request-Id"]


def test_while_the_database_is_away_requests_get_503_unavailable_and_recover(
    entra: RunningEntra, private_postgres: PrivatePostgres, caplog: pytest.LogCaptureFixture
) -> None:
    admin = personas.global_admin(entra, personas.Tenant())
    newcomer = personas.global_admin(entra, personas.Tenant())
    with configured_api(private_postgres.url, authority=entra.base_url) as api:
        registered = api.graphql(REGISTER, token=admin.token)
        assert registered["data"]["registerOrganization"]["userErrors"] == []
        api.graphql(READ, token=admin.token)  # the admin is now a remembered caller

        with caplog.at_level(logging.WARNING), _load(api.url, admin.token) as during:
            time.sleep(0.5)
            private_postgres.stop()
            signing_in = api.http.post("/graphql", json={"query": READ}, headers=_bearer(newcomer.token))
            reading = api.http.post("/graphql", json={"query": READ}, headers=_bearer(admin.token))
            writing = api.http.post("/graphql", json={"query": REGISTER}, headers=_bearer(newcomer.token))
            time.sleep(1)
            private_postgres.start()
            time.sleep(2)
        crashes = [r for r in caplog.records if r.levelno >= logging.ERROR]

        recovered = None
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            recovered = api.http.post("/graphql", json={"query": READ}, headers=_bearer(admin.token))
            if recovered.status_code == 200:
                break
            time.sleep(0.2)

    for response in (signing_in, reading, writing):
        _unavailable(response)
    statuses = [status for status, _ in during]
    assert set(statuses) <= {200, 503}, during
    assert statuses.count(503) >= 1, "the load saw the outage"
    assert statuses[-1] == 200, "and the load saw it end"
    assert all(code == "UNAVAILABLE" for status, code in during if status == 503), during
    assert crashes == [], [r.getMessage() for r in crashes]
    assert recovered is not None
    assert recovered.status_code == 200, recovered.text
    assert recovered.json()["data"]["viewer"]["organization"]["legalName"] == "Outage Ltd"


@contextlib.contextmanager
def _load(base_url: str, token: str) -> Iterator[list[tuple[int, str | None]]]:
    """Requests one after another from a thread for the block: (status, error code) of each."""
    seen: list[tuple[int, str | None]] = []
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=base_url, timeout=30) as http:
            while not stop.is_set():
                response = http.post("/graphql", json={"query": READ}, headers=_bearer(token))
                errors = response.json().get("errors") or [{}]
                seen.append((response.status_code, (errors[0].get("extensions") or {}).get("code")))

    thread = threading.Thread(target=load, name="load")
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        thread.join(30)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
