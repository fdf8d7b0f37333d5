"""Rule 24: createProgram's invitations are issued in the background, resumably, each email once."""

from __future__ import annotations

from collections import Counter

import pytest

from domain.jobs import Progress
from domain.model import Enrollment, Invitation, InvitationJob, OutboxMessage
from domain.services import invitations
from domain.services.invitation_jobs import Issued, run_invitation_jobs
from domain.vocabulary import AgreementKind, CriterionKind, EnrollmentStatus
from tests.support.world import FISCAL_YEAR, World

RESELLER = (CriterionKind.RESELLER_AGREEMENT,)


class Crash(Exception):
    pass


async def eligible_locations(world: World, n: int) -> list[int]:
    locations = []
    for i in range(n):
        org = await world.organization(ga_email=f"ga{i}@example.com", name=f"Org {i}")
        await world.agree(org, AgreementKind.RESELLER)
        locations.append(await world.location(org))
    return locations


async def test_a_new_program_with_criteria_leaves_a_job_and_the_worker_invites_everyone(world: World) -> None:
    locations = await eligible_locations(world, 3)
    program_id = await world.program(criteria=RESELLER)
    assert [(j.program_id, j.fiscal_year) for j in await world.rows(InvitationJob)] == [
        (program_id, FISCAL_YEAR)
    ]
    issued = await run_invitation_jobs(world.uow(), world.operator, public_url="https://pc.example")
    assert issued == [Issued(program_id, FISCAL_YEAR, 3)]
    assert sorted(i.location_id for i in await world.rows(Invitation)) == sorted(locations)
    assert {e.status for e in await world.rows(Enrollment)} == {EnrollmentStatus.INVITED}
    assert len(await world.rows(OutboxMessage)) == 3
    assert await world.rows(InvitationJob) == []  # done: the next round finds nothing
    assert await run_invitation_jobs(world.uow(), world.operator, public_url="https://pc.example") == []


async def test_an_open_program_leaves_no_job(world: World) -> None:
    await eligible_locations(world, 1)
    await world.program()
    assert await world.rows(InvitationJob) == []


async def test_a_crash_halfway_resumes_and_sends_each_email_once(world: World) -> None:
    locations = await eligible_locations(world, 4)
    program_id = await world.program(criteria=RESELLER)

    def crash_after_first_batch(progress: Progress) -> None:
        raise Crash(progress)

    with pytest.raises(Crash):
        await invitations.issue_invitations(
            world.uow(), world.operator, program_id=program_id, batch_size=2, progress=crash_after_first_batch
        )
    assert len(await world.rows(Invitation)) == 2  # the first batch committed, with its emails
    assert len(await world.rows(OutboxMessage)) == 2
    assert await world.rows(InvitationJob) != []  # still to do

    await run_invitation_jobs(world.uow(), world.operator, public_url="https://pc.example", batch_size=2)
    invited = Counter(i.location_id for i in await world.rows(Invitation))
    assert invited == Counter(locations)
    assert Counter(e.to_address for e in await world.rows(OutboxMessage)) == Counter(
        f"ga{i}@example.com" for i in range(4)
    )
    assert await world.rows(InvitationJob) == []


class StopAfter:
    """Asked before each batch: stop once `batches` have been asked about."""

    def __init__(self, batches: int) -> None:
        self.asked = 0
        self.batches = batches

    def requested(self) -> bool:
        self.asked += 1
        return self.asked > self.batches


async def test_a_job_told_to_stop_keeps_its_row_and_the_next_round_finishes_it(world: World) -> None:
    locations = await eligible_locations(world, 4)
    program_id = await world.program(criteria=RESELLER)
    first = await run_invitation_jobs(
        world.uow(), world.operator, public_url="https://pc.example", batch_size=2, stopping=StopAfter(1)
    )
    assert first == [Issued(program_id, FISCAL_YEAR, 2)]  # the batch in flight, committed
    assert await world.rows(InvitationJob) != []  # the rest is left to the next round
    rest = await run_invitation_jobs(
        world.uow(), world.operator, public_url="https://pc.example", batch_size=2
    )
    assert rest == [Issued(program_id, FISCAL_YEAR, 2)]
    assert Counter(i.location_id for i in await world.rows(Invitation)) == Counter(locations)
    assert len(await world.rows(OutboxMessage)) == 4
    assert await world.rows(InvitationJob) == []
