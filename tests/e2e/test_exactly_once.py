"""Of N identical requests at once, split over two `incentives serve` processes sharing one database,
exactly one changes anything and records one audit event; the others get CONFLICT. On SQLite and on
PostgreSQL, counting successes, stored rows and audit events.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.graphql.ids import to_global_id
from domain.access import Role
from domain.clock import FixedClock
from domain.model import Enrollment, RoleAssignment, User
from domain.vocabulary import EnrollmentStatus
from tests.e2e.harness import Running, environment, running
from tests.support import actors, personas
from tests.support.databases import run_async
from tests.support.entra import API_CLIENT_ID, OPERATOR_TENANT_ID, RunningEntra
from tests.support.pgbouncer import direct_settings
from tests.support.ports import free_port
from tests.support.world import Org, World, world_on

pytestmark = pytest.mark.e2e

AT_ONCE = 20
ASSIGN = """mutation($user: ID!) { assignRole(input: {userObjectId: $user, role: INCENTIVES_USER}) {
  roleAssignment { id } userErrors { code } } }"""
ENROLL = """mutation($location: ID!, $program: ID!, $profile: ID!) {
  enroll(input: {locationId: $location, programId: $program, paymentProfileId: $profile}) {
    enrollment { status } userErrors { code } } }"""


@dataclass
class Servers:
    urls: list[str]
    database_url: str
    pids: tuple[int, ...] = ()  # the processes', in the order of `urls`
    running: tuple[Running, ...] = ()

    def post(self, i: int, query: str, variables: dict[str, Any], token: str) -> httpx.Response:
        """POST to the `i`th server; if it cannot be reached, fail with what each server printed."""
        try:
            return httpx.post(
                self.urls[i] + "/graphql",
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {token}"},
                timeout=60,
            )
        except httpx.TransportError as error:
            states = [
                f"{server.log.name} (exit code {server.process.poll()}):\n{server.output()}"
                for server in self.running
            ]
            pytest.fail(f"{self.urls[i]} did not answer ({error!r}); the servers:\n" + "\n".join(states))

    @asynccontextmanager
    async def world(self) -> AsyncIterator[World]:
        """The world builder on the servers' database, on today's date as the servers have it."""
        async with world_on(self.database_url) as world:
            world.clock = FixedClock(datetime.now(UTC))
            yield world


def serve_environment(database_url: str, entra: RunningEntra) -> dict[str, str]:
    """The environment of a `serve` on `database_url` trusting `entra`: the database is migrated
    already (by its fixture, or by `tests.support.databases.migrate`; `incentives migrate` as a
    command has tests of its own)."""
    return environment(
        DATABASE_URL=database_url,
        AZURE_AUTHORITY_HOST=entra.base_url,
        AZURE_CLIENT_ID=API_CLIENT_ID,
        AZURE_TENANT_ID=OPERATOR_TENANT_ID,
        INCENTIVES_TAX_REMINDER_INTERVAL="0",
        **direct_settings(database_url),  # the "pgbouncer" variant: PgBouncer, and PostgreSQL direct
    )


@pytest.fixture
def servers(tmp_path: Path, entra: RunningEntra, database_url: str) -> Iterator[Servers]:
    env = serve_environment(database_url, entra)
    ports = [free_port(), free_port()]
    with (
        running("serve", "--port", str(ports[0]), env=env, log=tmp_path / "a.log") as first,
        running("serve", "--port", str(ports[1]), env=env, log=tmp_path / "b.log") as second,
    ):
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        first.wait_until_healthy(urls[0])
        second.wait_until_healthy(urls[1])
        yield Servers(urls, database_url, (first.process.pid, second.process.pid), (first, second))


def at_once(servers: Servers, query: str, variables: dict[str, Any], token: str) -> list[dict[str, Any]]:
    """`AT_ONCE` identical requests, alternately to each server, all in flight together."""

    def send(i: int) -> dict[str, Any]:
        response = servers.post(i % len(servers.urls), query, variables, token)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body
        return body

    with ThreadPoolExecutor(AT_ONCE) as pool:
        return list(pool.map(send, range(AT_ONCE)))


def outcomes(replies: list[dict[str, Any]], field: str) -> list[str]:
    found = []
    for reply in replies:
        errors = reply["data"][field]["userErrors"]
        found.append(errors[0]["code"] if errors else "done")
    return sorted(found)


async def _organization(world: World, entra: RunningEntra) -> tuple[Org, str]:
    org = await world.organization()
    return org, personas.global_admin(
        entra, personas.Tenant(org.tenant_id), object_id=org.global_admin.object_id
    ).token


def test_identical_role_assignments_at_once_store_one(servers: Servers, entra: RunningEntra) -> None:
    async def arrange() -> tuple[Org, str]:
        async with servers.world() as world:
            return await _organization(world, entra)

    org, admin_token = run_async(arrange)
    member = personas.user(entra, personas.Tenant(org.tenant_id))
    seen = httpx.post(  # the user has signed in before: a users row exists
        servers.urls[0] + "/graphql",
        json={"query": "{ viewer { objectId } }"},
        headers={"Authorization": f"Bearer {member.token}"},
        timeout=30,
    )
    assert seen.status_code == 200

    replies = at_once(servers, ASSIGN, {"user": member.object_id}, admin_token)

    async def stored() -> tuple[int, int]:
        async with servers.world() as world:
            user = (await world.rows(User, User.object_id == member.object_id))[0]
            assignments = await world.count(RoleAssignment, RoleAssignment.user_id == user.id)
            audited = (await world.audit_actions(org.id)).count("assignRole")
            return assignments, audited

    assert outcomes(replies, "assignRole") == ["CONFLICT"] * (AT_ONCE - 1) + ["done"]
    assert run_async(stored) == (1, 1)


def test_one_waiting_enrollment_submitted_at_once_is_submitted_once(
    servers: Servers, entra: RunningEntra
) -> None:
    async def arrange() -> tuple[Org, int, int, int, int, str]:
        async with servers.world() as world:
            org, _ = await _organization(world, entra)
            location = await world.location(org, "Lyon", country="FR")
            program = await world.program("GROWTH")
            await world.invite(program)
            admin_id = personas.new_guid()
            await world.assign(org, admin_id, Role.INCENTIVES_ADMIN, locations=[location])
            admin = actors.incentives_admin(org.tenant_id, org.id, locations=[location], object_id=admin_id)
            await world.tax_profile(admin, location)
            profile = await world.payment_profile(admin)
            waiting = await world.count(
                Enrollment, Enrollment.location_id == location, Enrollment.status == EnrollmentStatus.INVITED
            )
            assert waiting == 1
            return org, location, program, profile, waiting, admin_id

    org, location, program, profile, _, admin_id = run_async(arrange)
    token = entra.mint(tenant_id=org.tenant_id, object_id=admin_id, audience=API_CLIENT_ID, name="Ines")
    variables = {
        "location": to_global_id("Location", location),
        "program": to_global_id("IncentiveProgram", program),
        "profile": to_global_id("PaymentProfile", profile),
    }

    replies = at_once(servers, ENROLL, variables, token)

    async def stored() -> tuple[list[EnrollmentStatus], int]:
        async with servers.world() as world:
            rows = await world.rows(Enrollment, Enrollment.location_id == location)
            return [row.status for row in rows], (await world.audit_actions(org.id)).count("enroll")

    assert outcomes(replies, "enroll") == ["CONFLICT"] * (AT_ONCE - 1) + ["done"]
    assert run_async(stored) == ([EnrollmentStatus.VALIDATING_ENROLLMENT], 1)


REVOKE = """mutation($id: ID!) { revokeRole(input: {roleAssignmentId: $id}) {
  revokedRoleAssignmentId userErrors { code } } }"""


def test_one_role_assignment_revoked_at_once_is_revoked_once(servers: Servers, entra: RunningEntra) -> None:
    async def arrange() -> tuple[Org, str, int]:
        async with servers.world() as world:
            org, token = await _organization(world, entra)
            assignment = await world.assign(org, personas.new_guid(), Role.INCENTIVES_USER)
            return org, token, assignment

    org, admin_token, assignment = run_async(arrange)

    replies = at_once(servers, REVOKE, {"id": to_global_id("RoleAssignment", assignment)}, admin_token)

    async def stored() -> tuple[int, int]:
        async with servers.world() as world:
            left = await world.count(RoleAssignment, RoleAssignment.id == assignment)
            return left, (await world.audit_actions(org.id)).count("revokeRole")

    found = outcomes(replies, "revokeRole")
    assert found.count("done") == 1, found
    assert set(found) <= {"done", "CONFLICT", "NOT_FOUND"}, found
    assert run_async(stored) == (0, 1)
