"""A caller's access is the same in every process: a change through one `incentives serve` holds on
the next request to the other, on SQLite (where no event crosses processes) and on PostgreSQL, also
when the other's event listener was down when the change was made (issue 24).

Each test first makes the other process remember the caller, then changes them through the first.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tests.e2e.harness import GraphQL, error_codes, running
from tests.e2e.test_exactly_once import Servers, serve_environment, servers  # noqa: F401 (the two processes' fixture)
from tests.support import personas
from tests.support.databases import migrate, run_async
from tests.support.entra import RunningEntra
from tests.support.ports import free_port
from tests.support.world import Org

pytestmark = pytest.mark.e2e

ADD_LOCATION = """mutation {
  addLocation(input: {name: "Uppsala", country: "SE", partnerType: DIRECT_RESELLER})
  { location { id } userErrors { code } } }"""
ORGANIZATION = "{ viewer { organization { legalName } } }"
# Its locations are read (rows, which carry the version on the planned lane); its roles are the caller's.
LOCATIONS = "{ viewer { roles organization { locations(first: 5) { edges { node { name } } } } } }"
LISTENER = "incentives-events"  # adapters.events.APPLICATION_NAME
# Only the servers' own (by the client port of each of their connections): an earlier test's listener
# may linger on the same database a moment after its process let it go.
OF_LISTENERS = (
    "FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()"
    " AND client_port = ANY($2::int[])"
)
COUNT_LISTENERS = f"SELECT count(pid) {OF_LISTENERS}"
TERMINATE_LISTENERS = f"SELECT count(pg_terminate_backend(pid)) {OF_LISTENERS}"


@pytest.fixture
def clients(servers: Servers) -> Iterator[tuple[GraphQL, GraphQL]]:  # noqa: F811
    a, b = GraphQL(servers.urls[0]), GraphQL(servers.urls[1])
    yield a, b
    a.close()
    b.close()


def _organization(on: Servers) -> Org:
    async def arrange() -> Org:
        async with on.world() as world:
            return await world.organization()

    return run_async(arrange)


def _account_admin(on: Servers, entra: RunningEntra, b: GraphQL) -> tuple[personas.Persona, str, str]:
    """An Account admin assigned through B: (them, their assignment's id, the Global admin's token)."""
    org = _organization(on)
    tenant = personas.Tenant(org.tenant_id)
    boss = personas.global_admin(entra, tenant, object_id=org.global_admin.object_id).token
    someone = personas.user(entra, tenant)
    assigned = b.mutate(
        boss, "assignRole", "roleAssignment { id }", userObjectId=someone.object_id, role="ACCOUNT_ADMIN"
    )
    return someone, assigned["roleAssignment"]["id"], boss


def _added(body: dict[str, Any]) -> bool:
    return bool(body.get("data", {}).get("addLocation", {}).get("location"))


def _refused(body: dict[str, Any]) -> bool:
    return [code for _, code in error_codes(body)] == ["FORBIDDEN"]


def test_a_role_revoked_through_one_process_is_refused_by_the_other_at_once(
    servers: Servers,  # noqa: F811
    clients: tuple[GraphQL, GraphQL],
    entra: RunningEntra,
) -> None:
    a, b = clients
    admin, assignment, boss = _account_admin(servers, entra, b)
    assert _added(a.post(admin.token, ADD_LOCATION))  # A now remembers them as an Account admin
    for _ in range(2):  # the second answered by A's planned lane, which reads the version itself
        assert a.data(admin.token, LOCATIONS)["viewer"]["roles"] == ["ACCOUNT_ADMIN"]

    b.mutate(boss, "revokeRole", "revokedRoleAssignmentId", roleAssignmentId=assignment)

    assert a.data(admin.token, LOCATIONS)["viewer"]["roles"] == []
    assert _refused(a.post(admin.token, ADD_LOCATION))


def test_an_organization_registered_through_one_process_is_seen_by_the_other_at_once(
    clients: tuple[GraphQL, GraphQL], entra: RunningEntra
) -> None:
    a, b = clients
    founder = personas.global_admin(entra, personas.Tenant()).token
    for _ in range(2):  # remembered by A; the second answered by its planned lane
        assert a.data(founder, ORGANIZATION)["viewer"]["organization"] is None

    b.mutate(founder, "registerOrganization", "organization { id }", legalName="Truth AB", country="SE")

    assert a.data(founder, ORGANIZATION)["viewer"]["organization"] == {"legalName": "Truth AB"}
    assert _added(a.post(founder, ADD_LOCATION))


def _listeners(servers: Servers, *, terminate: bool = False) -> int:  # noqa: F811
    """How many event listeners the servers have connected to their database, after ending them if
    asked."""
    query = TERMINATE_LISTENERS if terminate else COUNT_LISTENERS
    ports = _tcp_ports(servers.pids)

    async def ask() -> int:
        url = make_url(servers.database_url)
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        connection = await asyncpg.connect(dsn)
        try:
            count: int = await connection.fetchval(query, LISTENER, ports)
            return count
        finally:
            await connection.close()

    return run_async(ask)


def _tcp_ports(pids: Sequence[int]) -> list[int]:
    """The local ports of the TCP connections of these processes and their children (Linux /proc)."""
    sockets: set[str] = set()
    for pid in _and_children(pids):
        with contextlib.suppress(OSError):  # a descriptor closed while listed
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        sockets.add(target[len("socket:[") : -1])
    ports = []
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        for line in table.read_text().splitlines()[1:] if table.exists() else ():
            fields = line.split()  # sl local_address rem_address st ... uid timeout inode
            if fields[9] in sockets:
                ports.append(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def _and_children(pids: Sequence[int]) -> list[int]:
    found, pending = [], list(pids)
    while pending:
        pid = pending.pop()
        found.append(pid)
        for children in Path(f"/proc/{pid}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                pending += [int(child) for child in children.read_text().split()]
    return found


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_role_revoked_while_the_other_process_was_not_listening_is_refused_by_it(
    servers: Servers,  # noqa: F811
    clients: tuple[GraphQL, GraphQL],
    entra: RunningEntra,
) -> None:
    a, b = clients
    admin, assignment, boss = _account_admin(servers, entra, b)
    assert _added(a.post(admin.token, ADD_LOCATION))

    assert _listeners(servers, terminate=True) == 2
    b.mutate(boss, "revokeRole", "revokedRoleAssignmentId", roleAssignmentId=assignment)
    # The listeners wait half a second before listening again: the revocation's NOTIFY was lost.
    assert _listeners(servers) == 0

    assert _refused(a.post(admin.token, ADD_LOCATION))


@pytest.fixture
def workers(tmp_path: Path, entra: RunningEntra) -> Iterator[Servers]:
    """`serve --workers 2` on SQLite: two processes behind one port, which the kernel shares out
    by connection (no event crosses from one to the other)."""
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'workers.db'}"
    migrate(database_url)
    env = serve_environment(database_url, entra)
    port = free_port()
    with running(
        "serve", "--port", str(port), "--workers", "2", env=env, log=tmp_path / "serve.log"
    ) as process:
        process.wait_for(lambda: process.output().count("Application startup complete") == 2, "two workers")
        url = f"http://127.0.0.1:{port}"
        process.wait_until_healthy(url)
        yield Servers([url, url], database_url)


def _roles_on_new_connections(url: str, token: str, times: int = 20) -> list[list[str]]:
    """The caller's roles as `times` new connections are told them: the kernel hashes new
    connections over the workers' sockets, so both workers answer some (all but surely)."""
    found = []
    for _ in range(times):
        client = GraphQL(url)
        try:
            found.append(client.data(token, LOCATIONS)["viewer"]["roles"])
        finally:
            client.close()
    return found


def test_a_role_revoked_through_one_worker_is_refused_by_every_worker_at_once(
    workers: Servers, entra: RunningEntra
) -> None:
    url = workers.urls[0]
    b = GraphQL(url)
    try:
        admin, assignment, boss = _account_admin(workers, entra, b)
        # Both workers now remember them as an Account admin.
        assert _roles_on_new_connections(url, admin.token) == [["ACCOUNT_ADMIN"]] * 20

        b.mutate(boss, "revokeRole", "revokedRoleAssignmentId", roleAssignmentId=assignment)
    finally:
        b.close()

    assert _roles_on_new_connections(url, admin.token) == [[]] * 20
