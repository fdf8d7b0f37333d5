from __future__ import annotations

import pytest

from auth.principal import Principal
from domain.access import Role
from domain.errors import Forbidden, Invalid, NotFound
from domain.model import AuditEvent, Enrollment, Invitation, InvitationDismissal, OutboxMessage
from domain.services import enrollment, invitations, organizations, programs, roles
from domain.vocabulary import AgreementKind, CriterionKind, EnrollmentStatus, InvitationChannel, PartnerType
from tests.integration.statements import counted_statements
from tests.support import actors
from tests.support.world import FISCAL_YEAR, Org, World

RESELLER = (CriterionKind.RESELLER_AGREEMENT,)


async def issue(world: World, program_id: int, actor: Principal | None = None) -> int:
    return await invitations.issue_invitations(
        world.uow(), actor or world.operator, program_id=program_id, public_url="https://pc.example"
    )


async def give_admin(
    world: World,
    org: Org,
    email: str | None,
    locations: list[int] | None = None,
    *,
    programs: list[int] | None = None,
    object_id: str | None = None,
) -> Principal:
    object_id = object_id or actors.new_guid()
    await roles.assign_role(
        world.uow(),
        org.global_admin,
        user_object_id=object_id,
        display_name="Admin",
        email=email,
        role=Role.INCENTIVES_ADMIN,
        location_ids=locations,
        program_ids=programs,
    )
    return actors.incentives_admin(org.tenant_id, org.id, locations=locations, object_id=object_id)


async def test_only_eligible_locations_are_invited_once_with_an_invited_enrollment(world: World) -> None:
    org = await world.organization()
    eligible = await world.location(org, "Direct", PartnerType.DIRECT_RESELLER)
    also_eligible = await world.location(org, "Indirect", PartnerType.INDIRECT_RESELLER)
    unagreed = await world.organization(name="Fabrikam")
    await world.location(unagreed, "Direct", PartnerType.DIRECT_RESELLER)
    await world.agree(org, AgreementKind.RESELLER)
    program_id = await world.program(criteria=RESELLER)
    assert await issue(world, program_id) == 2
    invited = await world.rows(Invitation)
    assert {(i.location_id, i.fiscal_year, i.channel) for i in invited} == {
        (eligible, FISCAL_YEAR, InvitationChannel.EMAIL),
        (also_eligible, FISCAL_YEAR, InvitationChannel.EMAIL),
    }
    enrollments = await world.rows(Enrollment)
    assert {(e.location_id, e.status) for e in enrollments} == {
        (eligible, EnrollmentStatus.INVITED),
        (also_eligible, EnrollmentStatus.INVITED),
    }
    assert (await world.audit_actions(org.id))[-1] == "issueInvitations"
    assert "issueInvitations" not in await world.audit_actions(unagreed.id)


async def test_issuing_again_creates_and_queues_nothing(world: World) -> None:
    org = await world.organization(ga_email="ga@contoso.example")
    await world.location(org)
    await world.agree(org, AgreementKind.RESELLER)
    program_id = await world.program(criteria=RESELLER)
    assert await issue(world, program_id) == 1
    counts = [await world.count(m) for m in (Invitation, Enrollment, OutboxMessage, AuditEvent)]
    assert await issue(world, program_id) == 0
    assert [await world.count(m) for m in (Invitation, Enrollment, OutboxMessage, AuditEvent)] == counts


async def test_open_programs_invite_every_location_on_the_overview_without_email(world: World) -> None:
    org = await world.organization(ga_email="ga@contoso.example")
    await world.location(org, "A", PartnerType.INDIRECT_PROVIDER)
    await world.location(org, "B", PartnerType.DIRECT_RESELLER)
    await give_admin(world, org, "admin@contoso.example")
    program_id = await world.program()
    assert await issue(world, program_id) == 2
    assert {i.channel for i in await world.rows(Invitation)} == {InvitationChannel.OVERVIEW}
    assert await world.count(OutboxMessage) == 0


async def test_emails_go_to_the_covering_incentives_admins_and_the_global_admin(world: World) -> None:
    """Rule 17 (seed 000: "Microsoft sends invitations to the Global admin, the Account admin and
    the Incentives admin")."""
    org = await world.organization(ga_email="ga@contoso.example")
    seattle = await world.location(org, "Seattle")
    await world.location(org, "Paris")
    await world.agree(org, AgreementKind.RESELLER)
    await give_admin(world, org, "seattle@contoso.example", locations=[seattle])
    await give_admin(world, org, "everywhere@contoso.example")
    program_id = await world.program(criteria=RESELLER)
    await issue(world, program_id)
    messages = await world.rows(OutboxMessage)
    by_location = {i.id: i.location_id for i in await world.rows(Invitation)}
    sent = {(by_location[int(m.message_id.split("-")[1])], m.to_address) for m in messages}
    paris = next(i for i in org.location_ids if i != seattle)
    assert sent == {
        (seattle, "everywhere@contoso.example"),
        (seattle, "seattle@contoso.example"),
        (seattle, "ga@contoso.example"),
        (paris, "everywhere@contoso.example"),
        (paris, "ga@contoso.example"),
    }
    assert all(m.subject == "Partner Incentive Enrollment Invitation" for m in messages)
    assert all("https://pc.example/" in m.body_text and "Get Started" in m.body_text for m in messages)
    assert len({m.message_id for m in messages}) == len(messages) == 5


async def test_without_an_incentives_admin_the_global_and_account_admins_are_asked_to_assign_one(
    world: World,
) -> None:
    org = await world.organization(ga_email="ga@contoso.example")
    await world.location(org)
    await world.agree(org, AgreementKind.RESELLER)
    await roles.assign_role(
        world.uow(),
        org.global_admin,
        user_object_id=actors.new_guid(),
        display_name="AA",
        email="aa@contoso.example",
        role=Role.ACCOUNT_ADMIN,
        location_ids=None,
        program_ids=None,
    )
    program_id = await world.program(criteria=RESELLER)
    await issue(world, program_id)
    messages = await world.rows(OutboxMessage)
    assert sorted(m.to_address for m in messages) == ["aa@contoso.example", "ga@contoso.example"]
    assert all("assign an Incentives admin" in m.body_text for m in messages)
    assert {m.organization_id for m in messages} == {org.id}


async def test_an_incentives_admin_without_an_address_is_named_not_replaced_by_assign_one(
    world: World,
) -> None:
    # Rule 26 refines rule 17: "assign one" only when none covers the invitation.
    org = await world.organization(ga_email="ga@contoso.example")
    await world.location(org)
    await world.agree(org, AgreementKind.RESELLER)
    await give_admin(world, org, None)
    await issue(world, await world.program(criteria=RESELLER))
    (message,) = await world.rows(OutboxMessage)
    assert message.to_address == "ga@contoso.example"
    assert "none of them has an email address known to Partner Center" in message.body_text
    assert "assign an Incentives admin" not in message.body_text


async def test_a_person_holding_two_roles_is_written_to_once(world: World) -> None:
    org = await world.organization(ga_email="ga@contoso.example")
    await world.location(org)
    await world.agree(org, AgreementKind.RESELLER)
    await give_admin(world, org, "GA@contoso.example", object_id=org.global_admin.object_id)
    await issue(world, await world.program(criteria=RESELLER))
    (message,) = await world.rows(OutboxMessage)
    assert message.to_address.lower() == "ga@contoso.example"
    assert "assign an Incentives admin" not in message.body_text


async def test_an_incentives_admin_of_another_program_is_not_written_to(world: World) -> None:
    org = await world.organization()
    await world.location(org)
    await world.agree(org, AgreementKind.RESELLER)
    other_program = await world.program("OTHER", criteria=RESELLER)
    program_id = await world.program(criteria=RESELLER)
    await give_admin(world, org, "other@contoso.example", programs=[other_program])
    await give_admin(world, org, "this@contoso.example", programs=[program_id])
    await issue(world, program_id)
    assert [m.to_address for m in await world.rows(OutboxMessage)] == ["this@contoso.example"]


async def test_a_discontinued_program_is_invalid_and_an_unknown_one_not_found(world: World) -> None:
    program_id = await world.program()
    await programs.discontinue_program(world.uow(), world.operator, program_id=program_id)
    with pytest.raises(Invalid) as raised:
        await issue(world, program_id)
    assert raised.value.problems[0].field == ("programId",)
    with pytest.raises(NotFound):
        await issue(world, 999)


async def test_partners_cannot_issue_invitations(world: World) -> None:
    org = await world.organization()
    await world.location(org)
    program_id = await world.program()
    with pytest.raises(Forbidden):
        await issue(world, program_id, org.global_admin)
    assert await world.count(Invitation) == 0


async def test_a_location_already_enrolling_this_year_is_not_invited_and_keeps_its_enrollment(
    world: World,
) -> None:
    """Rule 16: no invitation (nor email) for a (location, program) with an enrollment that year."""
    org = await world.organization()
    location_id = await world.location(org)
    program_id = await world.program()
    admin = actors.incentives_admin(org.tenant_id, org.id)
    started = await enrollment.enroll(
        world.uow(), admin, location_id=location_id, program_id=program_id, payment_profile_id=None
    )
    assert await issue(world, program_id) == 0
    assert await world.count(Invitation) == 0
    [kept] = await world.rows(Enrollment)
    assert (kept.id, kept.status) == (started.id, EnrollmentStatus.ACTION_REQUIRED)


async def test_issuing_takes_the_same_number_of_statements_for_many_locations(world: World) -> None:
    statement_counts = []
    for size, invited in ((1, 1), (6, 7)):
        for _ in range(size):
            org = await world.organization(ga_email="ga@example.com", name=f"Org {actors.new_guid()}")
            await world.agree(org, AgreementKind.RESELLER)
            await world.location(org)
            await give_admin(world, org, "admin@example.com")
        # A program made after the locations: addLocation and rule 18 had none to invite them to.
        program_id = await world.program(f"P{size}", criteria=RESELLER)
        with counted_statements(world.sessions) as seen:
            assert await issue(world, program_id) == invited
        statement_counts.append(len(seen))
    assert statement_counts[0] == statement_counts[1]


async def invited_scene(world: World) -> tuple[Org, Invitation, Principal]:
    org = await world.organization()
    location_id = await world.location(org)
    await world.agree(org, AgreementKind.RESELLER)
    program_id = await world.program(criteria=RESELLER)
    admin = await give_admin(world, org, "admin@contoso.example", locations=[location_id])
    await issue(world, program_id)
    [invitation] = await world.rows(Invitation)
    return org, invitation, admin


async def test_an_incentives_admin_dismisses_their_notice_once(world: World) -> None:
    org, invitation, admin = await invited_scene(world)
    for _ in range(2):
        dismissed = await invitations.dismiss_invitation(world.uow(), admin, invitation_id=invitation.id)
        assert dismissed.id == invitation.id
    assert await world.count(InvitationDismissal) == 1
    assert (await world.audit_actions(org.id)).count("dismissInvitation") == 1


async def test_a_new_incentives_admin_without_a_user_row_can_dismiss(world: World) -> None:
    org, invitation, _ = await invited_scene(world)
    newcomer = actors.incentives_admin(org.tenant_id, org.id)
    await invitations.dismiss_invitation(world.uow(), newcomer, invitation_id=invitation.id)
    assert await world.count(InvitationDismissal) == 1


async def test_the_global_admin_dismisses_for_themself_only(world: World) -> None:
    """Rule 17: the notice is on the Global admin's home page too; dismissal stays per person."""
    org, invitation, admin = await invited_scene(world)
    await invitations.dismiss_invitation(world.uow(), org.global_admin, invitation_id=invitation.id)
    await invitations.dismiss_invitation(world.uow(), admin, invitation_id=invitation.id)
    assert await world.count(InvitationDismissal) == 2


@pytest.mark.parametrize("who", ["incentives_user", "other_org_admin", "other_program_admin"])
async def test_an_invitation_that_is_not_the_callers_notice_is_not_found(world: World, who: str) -> None:
    org, invitation, _ = await invited_scene(world)
    other = await world.organization(name="Fabrikam")
    actor = {
        "other_program_admin": actors.incentives_admin(
            org.tenant_id, org.id, programs=[invitation.program_id + 1]
        ),
        "incentives_user": actors.incentives_user(org.tenant_id, org.id),
        "other_org_admin": actors.incentives_admin(other.tenant_id, other.id),
    }[who]
    with pytest.raises(NotFound):
        await invitations.dismiss_invitation(world.uow(), actor, invitation_id=invitation.id)
    assert await world.count(InvitationDismissal) == 0


async def organization_in(world: World, country: str, email: str) -> Org:
    tenant_id = actors.new_guid()
    registrant = actors.global_admin(tenant_id, email=email)
    org = await organizations.register_organization(
        world.uow(),
        registrant,
        legal_name=f"Org {country}",
        country=country,
        global_partner_id=None,
        migration_completed=True,
    )
    return Org(org.id, tenant_id, actors.global_admin(tenant_id, org.id, object_id=registrant.object_id))


async def test_each_organization_is_written_to_in_the_language_its_country_suggests(world: World) -> None:
    for country in ("FR", "SE", "US"):
        org = await organization_in(world, country, f"ga@{country.lower()}.example")
        await world.location(org, f"Site {country}")
        await world.agree(org, AgreementKind.RESELLER)
        await give_admin(world, org, f"admin@{country.lower()}.example")
    await issue(world, await world.program(criteria=RESELLER))
    subjects = {m.to_address: m.subject for m in await world.rows(OutboxMessage)}
    french = (
        "Invitation à l'inscription au programme d'incitations partenaires"
        " (Partner Incentive Enrollment Invitation)"
    )
    swedish = (
        "Inbjudan till registrering i partnerincitamentsprogram (Partner Incentive Enrollment Invitation)"
    )
    english = "Partner Incentive Enrollment Invitation"
    assert subjects == {
        "admin@fr.example": french,
        "ga@fr.example": french,
        "admin@se.example": swedish,
        "ga@se.example": swedish,
        "admin@us.example": english,
        "ga@us.example": english,
    }
    html = {m.to_address: m.body_html for m in await world.rows(OutboxMessage)}
    assert '<html lang="fr">' in html["admin@fr.example"]
    assert "Kom igång" in html["admin@se.example"]
