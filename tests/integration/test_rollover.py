from __future__ import annotations

from datetime import date

import pytest

from domain.access import Coverage
from domain.clock import FixedClock
from domain.errors import Forbidden, Invalid
from domain.model import Enrollment, Invitation, OutboxMessage
from domain.queries.enrollments import home_page_notices
from domain.services import enrollment, invitations, organizations, programs
from domain.services.rollover import RolloverResult, roll_over_fiscal_year
from domain.uow import UnitOfWork
from domain.vocabulary import AgreementKind, CriterionKind, EnrollmentStatus, PartnerType
from tests.integration.statements import counted_statements
from tests.support import actors
from tests.support.world import FISCAL_YEAR, Org, World, year_ended

NEXT = FISCAL_YEAR + 1
JULY_1 = date(2027, 7, 1)  # first day of the next fiscal year
RESELLER = (CriterionKind.RESELLER_AGREEMENT,)


async def roll(world: World) -> RolloverResult:
    """The roll-forward as it runs once FY 2027 has ended (rule 23); the world stays on its day."""
    july_1 = UnitOfWork(world.sessions, FixedClock(year_ended(FISCAL_YEAR)))
    return await roll_over_fiscal_year(july_1, world.operator, from_fiscal_year=FISCAL_YEAR)


async def next_year(world: World) -> dict[int, Enrollment]:
    return {e.carried_from_id or 0: e for e in await world.rows(Enrollment, Enrollment.fiscal_year == NEXT)}


async def reseller(world: World, ga_email: str | None = None) -> tuple[Org, int]:
    """A direct reseller with its reseller agreement and the PARTNER_PROGRAM agreement (rule 14)."""
    org = await world.organization(ga_email=ga_email)
    await world.agree(org, AgreementKind.RESELLER, AgreementKind.PARTNER_PROGRAM)
    return org, await world.location(org, f"Loc {actors.new_guid()}", PartnerType.DIRECT_RESELLER)


async def test_each_enrolled_enrollment_gets_its_next_year_status(world: World) -> None:
    program_id = await world.program(criteria=RESELLER)
    org, valid = await reseller(world)
    expiring = await world.location(org, "Expiring", PartnerType.DIRECT_RESELLER)
    carried = await world.enrolled(org, valid, program_id, tax_expires=date(2027, 7, 2))
    action = await world.enrolled(org, expiring, program_id, tax_expires=JULY_1)
    lapsed_org, lapsed_location = await reseller(world)
    lapsed = await world.enrolled(lapsed_org, lapsed_location, program_id, tax_expires=date(2028, 1, 1))
    await organizations.record_agreement(
        world.uow(), world.operator, organization_id=lapsed_org.id, kind=AgreementKind.RESELLER, active=False
    )
    assert await roll(world) == RolloverResult(carried=1, action_required=1, ineligible=1, inactive=0)
    made = await next_year(world)
    assert made[carried].status is EnrollmentStatus.ENROLLED
    assert made[carried].earnings_start_date == JULY_1
    assert made[carried].payment_profile_id is not None
    assert made[action].status is EnrollmentStatus.ACTION_REQUIRED
    assert made[action].payment_profile_id is not None
    assert made[lapsed].status is EnrollmentStatus.INELIGIBLE
    assert (await world.audit_actions(org.id))[-1] == "rollOverFiscalYear"
    assert (await world.audit_actions(lapsed_org.id))[-1] == "rollOverFiscalYear"


async def test_without_an_active_partner_program_agreement_nothing_is_carried_enrolled(world: World) -> None:
    """Rule 14: "automatically renewed ... if you are still eligible and have an active agreement",
    even for a program whose criteria do not name the agreement (here: the reseller agreement)."""
    program_id = await world.program(criteria=RESELLER)
    kept_org, kept = await reseller(world)
    lapsed_org, lapsed = await reseller(world)
    never_org = await world.organization()
    await world.agree(never_org, AgreementKind.RESELLER)
    never = await world.location(never_org, "Never agreed", PartnerType.DIRECT_RESELLER)
    ids = {
        "kept": await world.enrolled(kept_org, kept, program_id, tax_expires=date(2028, 1, 1)),
        "lapsed": await world.enrolled(lapsed_org, lapsed, program_id, tax_expires=date(2028, 1, 1)),
        "never": await world.enrolled(never_org, never, program_id, tax_expires=date(2028, 1, 1)),
    }
    await organizations.record_agreement(
        world.uow(),
        world.operator,
        organization_id=lapsed_org.id,
        kind=AgreementKind.PARTNER_PROGRAM,
        active=False,
    )
    assert await roll(world) == RolloverResult(carried=1, action_required=0, ineligible=2, inactive=0)
    made = await next_year(world)
    assert {name: made[enrollment_id].status for name, enrollment_id in ids.items()} == {
        "kept": EnrollmentStatus.ENROLLED,
        "lapsed": EnrollmentStatus.INELIGIBLE,
        "never": EnrollmentStatus.INELIGIBLE,
    }


async def test_an_open_program_is_carried_enrolled_whatever_the_agreements(world: World) -> None:
    """Rule 25: open programs follow the year; only the tax profile on July 1 still counts."""
    program_id = await world.program()
    org = await world.organization()  # no agreement at all
    valid = await world.location(org, "Valid")
    expiring = await world.location(org, "Expiring")
    ids = {
        "valid": await world.enrolled(org, valid, program_id, tax_expires=date(2028, 1, 1)),
        "expiring": await world.enrolled(org, expiring, program_id, tax_expires=JULY_1),
    }
    assert await roll(world) == RolloverResult(carried=1, action_required=1, ineligible=0, inactive=0)
    made = await next_year(world)
    assert {name: made[enrollment_id].status for name, enrollment_id in ids.items()} == {
        "valid": EnrollmentStatus.ENROLLED,
        "expiring": EnrollmentStatus.ACTION_REQUIRED,
    }


async def test_a_discontinued_program_rolls_into_inactive(world: World) -> None:
    program_id = await world.program()
    org, location_id = await reseller(world)
    enrollment_id = await world.enrolled(org, location_id, program_id, tax_expires=date(2028, 1, 1))
    await programs.discontinue_program(world.uow(), world.operator, program_id=program_id)
    assert await roll(world) == RolloverResult(carried=0, action_required=0, ineligible=0, inactive=1)
    assert (await next_year(world))[enrollment_id].status is EnrollmentStatus.INACTIVE


async def test_the_newest_tax_profile_decides(world: World) -> None:
    program_id = await world.program()
    org, location_id = await reseller(world)
    enrollment_id = await world.enrolled(org, location_id, program_id, tax_expires=date(2028, 1, 1))
    admin = actors.incentives_admin(org.tenant_id, org.id)
    await world.tax_profile(admin, location_id, date(2027, 3, 1))
    await roll(world)
    assert (await next_year(world))[enrollment_id].status is EnrollmentStatus.ACTION_REQUIRED


async def test_enrollments_not_enrolled_are_not_carried_and_a_second_run_changes_nothing(
    world: World,
) -> None:
    program_id = await world.program()
    org, location_id = await reseller(world)
    await world.enrolled(org, location_id, program_id, tax_expires=date(2028, 1, 1))
    other = await world.location(org, "Pending")
    await enrollment.enroll(
        world.uow(),
        actors.incentives_admin(org.tenant_id, org.id),
        location_id=other,
        program_id=program_id,
        payment_profile_id=None,
    )
    assert (await roll(world)).carried == 1
    audits = await world.audit_actions(org.id)
    assert await roll(world) == RolloverResult(0, 0, 0, 0)
    assert await world.count(Enrollment, Enrollment.fiscal_year == NEXT) == 1
    assert await world.audit_actions(org.id) == audits


async def test_partners_cannot_roll_over(world: World) -> None:
    org = await world.organization()
    with pytest.raises(Forbidden):
        await roll_over_fiscal_year(world.uow(), org.global_admin, from_fiscal_year=FISCAL_YEAR)


async def test_roll_over_takes_the_same_number_of_statements_for_many_enrollments(world: World) -> None:
    program_id = await world.program(criteria=RESELLER)
    counts, total = [], 0
    for size in (1, 4):
        total += size
        for _ in range(size):
            org, location_id = await reseller(world)
            await world.enrolled(org, location_id, program_id, tax_expires=date(2028, 1, 1))
        with counted_statements(world.sessions) as seen:
            assert (await roll(world)).carried == total
        counts.append(len(seen))
        async with world.sessions() as session:  # the next round carries them all again
            for carried in await world.rows(Enrollment, Enrollment.fiscal_year == NEXT):
                await session.delete(await session.get(Enrollment, carried.id))
            await session.commit()
    assert counts[0] == counts[1]


async def issue_next_year(world: World, program_id: int) -> int:
    return await invitations.issue_invitations(
        world.uow(), world.operator, program_id=program_id, fiscal_year=NEXT
    )


async def notices_next_year(world: World, org: Org) -> list[int]:
    async with world.sessions() as session:
        found = await home_page_notices(
            session,
            organization_id=org.id,
            user_id=None,
            coverage=Coverage(everything=True),
            fiscal_year=NEXT,
        )
    return [invitation.id for invitation in found]


async def test_an_invited_enrollment_waiting_in_the_next_year_takes_the_carried_status_in_place(
    world: World,
) -> None:
    """Rule 16: next year's invitations issued before the roll-forward: the partner is carried as
    ENROLLED all the same (no second row, not back at INVITED), and the notice leaves the home page."""
    program_id = await world.program(criteria=RESELLER)
    org, location_id = await reseller(world)
    enrolled_id = await world.enrolled(org, location_id, program_id, tax_expires=date(2028, 1, 1))
    newcomer = await world.location(org, "Newcomer", PartnerType.DIRECT_RESELLER)
    assert await issue_next_year(world, program_id) == 2  # neither has an enrollment of N+1 yet
    waiting = await world.rows(Enrollment, Enrollment.fiscal_year == NEXT)
    assert sorted((e.location_id, e.status) for e in waiting) == [
        (location_id, EnrollmentStatus.INVITED),
        (newcomer, EnrollmentStatus.INVITED),
    ]
    assert len(await notices_next_year(world, org)) == 2

    assert await roll(world) == RolloverResult(carried=1, action_required=0, ineligible=0, inactive=0)
    mine = await world.rows(Enrollment, Enrollment.fiscal_year == NEXT, Enrollment.location_id == location_id)
    assert [(e.status, e.carried_from_id, e.earnings_start_date) for e in mine] == [
        (EnrollmentStatus.ENROLLED, enrolled_id, JULY_1)
    ]
    assert mine[0].payment_profile_id is not None
    assert len(await notices_next_year(world, org)) == 1  # the newcomer's only
    assert await roll(world) == RolloverResult(0, 0, 0, 0)
    assert await world.count(Enrollment, Enrollment.fiscal_year == NEXT) == 2


async def test_next_years_invitations_after_the_roll_forward_skip_what_was_carried(world: World) -> None:
    """Rule 16: a carried (location, program) gets no invitation and no email."""
    program_id = await world.program(criteria=RESELLER)
    org, location_id = await reseller(world, ga_email="ga@contoso.example")
    await world.enrolled(org, location_id, program_id, tax_expires=date(2028, 1, 1))
    newcomer = await world.location(org, "Newcomer", PartnerType.DIRECT_RESELLER)
    assert (await roll(world)).carried == 1
    assert await issue_next_year(world, program_id) == 1
    invited = await world.rows(Invitation, Invitation.fiscal_year == NEXT)
    assert [invitation.location_id for invitation in invited] == [newcomer]
    # FY2027's emails went out when the locations were added (rule 24); one more, for FY2028.
    (email,) = [e for e in await world.rows(OutboxMessage) if str(invited[0].id) in e.message_id]
    assert email.to_address == "ga@contoso.example"


@pytest.mark.parametrize("year", [FISCAL_YEAR - 1, FISCAL_YEAR + 2])
async def test_invitations_are_for_the_current_or_the_next_fiscal_year_only(world: World, year: int) -> None:
    program_id = await world.program()
    with pytest.raises(Invalid) as refused:
        await invitations.issue_invitations(
            world.uow(), world.operator, program_id=program_id, fiscal_year=year
        )
    assert refused.value.problems[0].field == ("fiscalYear",)
    assert await world.count(Invitation) == 0
