"""Rules 24 and 25 through a served API: nobody runs an invitation batch.

`createProgram` of an ACTIVE program with criteria invites every eligible location of every
organization by itself, within 60 s, each email once; the automatic roll-forward (rule 15) invites,
for the new fiscal year, every eligible location of every ACTIVE program with criteria that it did
not carry, and gives every location its OVERVIEW invitation of the open programs, each once.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TypeVar

from domain.model import Enrollment, Invitation, InvitationJob, OutboxMessage
from domain.vocabulary import AgreementKind, EnrollmentStatus, InvitationChannel, PartnerType
from tests.support.configured_api import configured_api
from tests.support.databases import run_async
from tests.support.entra import RunningEntra
from tests.support.personas import operator
from tests.support.world import FISCAL_YEAR, Org, world_on

T = TypeVar("T")
CREATE = """mutation($input: CreateProgramInput!) {
  createProgram(input: $input) { program { id } userErrors { code } } }"""
WITHIN = 60.0  # rule 24's bound; the worker runs every 0.2 s here, so it takes well under a second
Invited = tuple[int, int, int, InvitationChannel]  # location, program, fiscal year, channel


def waited(read: Callable[[], T], done: Callable[[T], bool]) -> T:
    deadline = time.monotonic() + WITHIN
    while not done(found := read()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


def test_create_program_and_the_new_year_invite_every_eligible_location_by_themselves(
    entra: RunningEntra, sqlite_url: str
) -> None:
    async def seed() -> tuple[Org, list[int], list[int]]:
        async with world_on(sqlite_url) as world:
            resellers = await world.organization(ga_email="ga@resellers.example", name="Resellers")
            await world.agree(resellers, AgreementKind.RESELLER, AgreementKind.PARTNER_PROGRAM)
            others = await world.organization(ga_email="ga@others.example", name="Others")
            eligible = [await world.location(resellers, f"Reseller {i}") for i in range(2)]
            ineligible = [await world.location(others, "Other", PartnerType.DIRECT_RESELLER)]
            return resellers, eligible, ineligible

    async def invitations() -> list[Invited]:
        async with world_on(sqlite_url) as world:
            rows = await world.rows(Invitation)
            return sorted((i.location_id, i.program_id, i.fiscal_year, i.channel) for i in rows)

    async def enrollments() -> Counter[tuple[int, int, int, EnrollmentStatus]]:
        async with world_on(sqlite_url) as world:
            rows = await world.rows(Enrollment)
            return Counter((e.location_id, e.program_id, e.fiscal_year, e.status) for e in rows)

    async def emails() -> Counter[str]:
        async with world_on(sqlite_url) as world:
            return Counter(message.to_address for message in await world.rows(OutboxMessage))

    async def jobs() -> int:
        async with world_on(sqlite_url) as world:
            return len(await world.rows(InvitationJob))

    async def enrolled_and_open(location_id: int, program_id: int) -> int:
        async with world_on(sqlite_url) as world:
            await world.enrolled(resellers, location_id, program_id, tax_expires=date(2029, 1, 1))
            return await world.program("OPEN")

    resellers, eligible, (ineligible,) = run_async(seed)
    settings = {"invitation_job_interval": 0.2, "rollover_interval": 0.1}
    with configured_api(sqlite_url, authority=entra.base_url, **settings) as api:
        token = operator(entra).token
        started = time.monotonic()
        answer = api.graphql(
            CREATE, {"input": {"code": "RESELL", "name": "Resell", "criteria": ["RESELLER_AGREEMENT"]}}, token
        )
        assert answer["data"]["createProgram"]["userErrors"] == []
        found = waited(lambda: run_async(invitations), lambda rows: len(rows) == 2 and not run_async(jobs))
        assert time.monotonic() - started < WITHIN
        (program_id,) = {program for _, program, _, _ in found}
        assert found == [
            (location, program_id, FISCAL_YEAR, InvitationChannel.EMAIL) for location in eligible
        ]
        assert run_async(enrollments) == Counter(
            (location, program_id, FISCAL_YEAR, EnrollmentStatus.INVITED) for location in eligible
        )
        # One email per invitation to the Global admin (no Incentives admin yet), none to the others.
        assert run_async(emails) == Counter({"ga@resellers.example": 2})

        # The first location enrolls for FY N; an open program appears (open programs leave no job).
        carried, not_carried = eligible
        open_program = run_async(lambda: enrolled_and_open(carried, program_id))
        time.sleep(0.5)  # a few more rounds of the worker: nothing again
        assert run_async(emails) == Counter({"ga@resellers.example": 2})

        api.clock.at = datetime(2027, 7, 1, 0, 0, 1, tzinfo=UTC)  # FY N+1 has begun: rolled by itself
        new_year = FISCAL_YEAR + 1
        every_location = sorted([*eligible, ineligible])
        expected = sorted(
            [
                (not_carried, program_id, new_year, InvitationChannel.EMAIL),
                *(
                    (location, open_program, new_year, InvitationChannel.OVERVIEW)
                    for location in every_location
                ),
            ]
        )

        def of_new_year(rows: list[Invited]) -> list[Invited]:
            return sorted(row for row in rows if row[2] == new_year)

        found = waited(
            lambda: of_new_year(run_async(invitations)), lambda rows: rows == expected and not run_async(jobs)
        )
        assert found == expected
        statuses = run_async(enrollments)
        assert statuses[(carried, program_id, new_year, EnrollmentStatus.ENROLLED)] == 1
        assert statuses[(not_carried, program_id, new_year, EnrollmentStatus.INVITED)] == 1
        assert not any(key[0] == ineligible and key[1] == program_id for key in statuses)
        assert run_async(emails) == Counter({"ga@resellers.example": 3})  # FY N's two, N+1's one

        time.sleep(0.5)  # later rounds (of both loops) invite and email nobody again
        assert of_new_year(run_async(invitations)) == expected
        assert run_async(emails) == Counter({"ga@resellers.example": 3})
