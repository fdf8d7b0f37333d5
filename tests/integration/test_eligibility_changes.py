"""Rule 18: invitations and pending enrollments follow the agreements and the designation, in the
same transaction as the operator's change, with no batch."""

from __future__ import annotations

from datetime import UTC, date, datetime

from domain.model import Enrollment, Invitation, InvitationDismissal, OutboxMessage
from domain.services import enrollment, invitations, organizations, rollover
from domain.vocabulary import AgreementKind, CriterionKind, EnrollmentStatus, PartnerType
from tests.integration.statements import counted_statements
from tests.support import actors
from tests.support.world import FISCAL_YEAR, Org, World

RESELLER = (CriterionKind.RESELLER_AGREEMENT,)
S = EnrollmentStatus


async def reseller_agreement(world: World, org: Org, *, active: bool) -> None:
    await organizations.record_agreement(
        world.uow(), world.operator, organization_id=org.id, kind=AgreementKind.RESELLER, active=active
    )


async def statuses(world: World, org: Org) -> dict[int, S]:
    rows = await world.rows(Enrollment, Enrollment.fiscal_year == FISCAL_YEAR)
    return {row.location_id: row.status for row in rows if row.location_id in org.location_ids}


async def test_an_agreement_that_makes_a_location_eligible_invites_it_at_once(world: World) -> None:
    program_id = await world.program(criteria=RESELLER)
    await world.program("OPEN")  # open to all: invited on the overview by the operator's batch only
    org = await world.organization(ga_email="ga@contoso.example")
    seattle = await world.location(org, "Seattle", PartnerType.DIRECT_RESELLER)
    await reseller_agreement(world, org, active=True)

    invited = [(i.location_id, i.program_id, i.fiscal_year) for i in await world.rows(Invitation)]
    assert invited == [(seattle, program_id, FISCAL_YEAR)]  # not for the open program
    assert await statuses(world, org) == {seattle: S.INVITED}
    (email,) = await world.rows(OutboxMessage)
    assert email.to_address == "ga@contoso.example"
    # The operator's batch afterwards finds nothing more to do for it.
    assert await invitations.issue_invitations(world.uow(), world.operator, program_id=program_id) == 0


async def test_losing_eligibility_ends_what_is_in_progress_and_regaining_it_invites_again(
    world: World,
) -> None:
    program_id = await world.program(criteria=RESELLER)
    org = await world.organization()
    await reseller_agreement(world, org, active=True)
    invited = await world.location(org, "Invited", PartnerType.DIRECT_RESELLER)
    started = await world.location(org, "Started", PartnerType.DIRECT_RESELLER)
    enrolled = await world.location(org, "Enrolled", PartnerType.DIRECT_RESELLER)
    await invitations.issue_invitations(world.uow(), world.operator, program_id=program_id)
    admin = actors.incentives_admin(org.tenant_id, org.id)
    await enrollment.enroll(
        world.uow(), admin, location_id=started, program_id=program_id, payment_profile_id=None
    )
    await world.enrolled(org, enrolled, program_id, tax_expires=date(2028, 1, 1))
    (notice,) = [i for i in await world.rows(Invitation) if i.location_id == invited]
    await invitations.dismiss_invitation(world.uow(), admin, invitation_id=notice.id)

    await reseller_agreement(world, org, active=False)
    assert await statuses(world, org) == {invited: S.INELIGIBLE, started: S.INELIGIBLE, enrolled: S.ENROLLED}

    await reseller_agreement(world, org, active=True)
    assert await statuses(world, org) == {invited: S.INVITED, started: S.INVITED, enrolled: S.ENROLLED}
    assert await world.count(Enrollment) == 3  # the same rows, no second invitation
    assert await world.count(InvitationDismissal) == 0  # the notice shows again


async def test_the_designation_is_followed_too(world: World) -> None:
    program_id = await world.program(criteria=(CriterionKind.SOLUTIONS_PARTNER_DESIGNATION,))
    org = await world.organization()
    location_id = await world.location(org)
    await organizations.set_solutions_partner_designation(
        world.uow(), world.operator, organization_id=org.id, designated=True
    )
    assert [(i.location_id, i.program_id) for i in await world.rows(Invitation)] == [
        (location_id, program_id)
    ]
    await organizations.set_solutions_partner_designation(
        world.uow(), world.operator, organization_id=org.id, designated=False
    )
    assert await statuses(world, org) == {location_id: S.INELIGIBLE}


async def test_an_agreement_takes_the_same_number_of_statements_for_many_locations(world: World) -> None:
    await world.program(criteria=RESELLER)
    counts = []
    for size in (1, 8):
        org = await world.organization(name=f"Org {size}")
        for n in range(size):
            await world.location(org, f"Site {n}", PartnerType.DIRECT_RESELLER)
        with counted_statements(world.sessions) as seen:
            await reseller_agreement(world, org, active=True)
        assert len(await statuses(world, org)) == size
        counts.append(len(seen))
    assert counts[0] == counts[1]


async def test_adding_an_eligible_location_invites_it_in_the_same_transaction(world: World) -> None:
    """Rule 24: addLocation, like an agreement, invites at once (email and INVITED enrollment)."""
    program_id = await world.program(criteria=RESELLER)
    org = await world.organization(ga_email="ga@contoso.example")
    await reseller_agreement(world, org, active=True)
    seattle = await world.location(org, "Seattle", PartnerType.DIRECT_RESELLER)
    await world.location(org, "Distributor", PartnerType.INDIRECT_PROVIDER)  # not eligible: no reseller
    invited = [(i.location_id, i.program_id, i.fiscal_year) for i in await world.rows(Invitation)]
    assert (seattle, program_id, FISCAL_YEAR) in invited
    assert (await statuses(world, org))[seattle] is S.INVITED
    assert [email.to_address for email in await world.rows(OutboxMessage)].count("ga@contoso.example") >= 1


async def test_a_location_rolled_forward_ineligible_that_qualifies_again_is_invited(world: World) -> None:
    """Rule 24: INELIGIBLE after a roll-forward, then eligible again: INVITED, an invitation of the
    new year, and its email (the roll-forward made no invitation row for it)."""
    program_id = await world.program(criteria=RESELLER)
    org = await world.organization(ga_email="ga@contoso.example")
    await world.agree(org, AgreementKind.PARTNER_PROGRAM)
    await reseller_agreement(world, org, active=True)
    location = await world.location(org, "Seattle", PartnerType.DIRECT_RESELLER)
    await world.enrolled(org, location, program_id, tax_expires=date(2028, 1, 1))
    await reseller_agreement(world, org, active=False)
    world.clock.at = datetime(2027, 7, 2, tzinfo=UTC)
    await rollover.roll_over_fiscal_year(world.uow(), world.operator, from_fiscal_year=FISCAL_YEAR)
    next_year = Enrollment.fiscal_year == FISCAL_YEAR + 1
    assert [e.status for e in await world.rows(Enrollment, next_year)] == [S.INELIGIBLE]
    emails_before = await world.count(OutboxMessage)

    await reseller_agreement(world, org, active=True)
    assert [e.status for e in await world.rows(Enrollment, next_year)] == [S.INVITED]
    (invitation,) = await world.rows(Invitation, Invitation.fiscal_year == FISCAL_YEAR + 1)
    assert invitation.location_id == location
    (email,) = (await world.rows(OutboxMessage))[emails_before:]
    assert str(invitation.id) in email.message_id
