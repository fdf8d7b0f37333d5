"""Enrolling through HTTP with real tokens: rules 4, 5, 6, 8 (partner side) and 9 of the contract."""

from __future__ import annotations

import pytest

from tests.api.mutation_world import ENROLLMENT_FIELDS, GraphqlServer, Invited, Partner, World, invite
from tests.support.entra import RunningEntra

VALID = "2099-12-31"
ELIGIBILITY = """
query Eligibility($id: ID!, $program: ID!) { node(id: $id) { ... on Location {
  eligibility(programId: $program) { eligible criteria { kind met } } } } }
"""
NOTICES = "{ viewer { invitations { id program { id } location { id } channel } } }"


@pytest.fixture
def world(api: GraphqlServer, entra: RunningEntra) -> World:
    return World(api, entra)


def enroll_input(invited: Invited) -> dict[str, str]:
    return {"locationId": invited.location, "programId": invited.program}


def statuses(invited: Invited) -> list[str]:
    return [enrollment["status"] for enrollment in invited.enrollments()]


def eligible_partner(world: World, *agreements: str) -> Partner:
    partner = world.partner()
    for kind in agreements:
        world.ok(
            world.operator(),
            "recordAgreement",
            {"organizationId": partner.organization_id, "kind": kind, "active": True},
        )
    return partner


# Rule 4: only an Incentives admin covering (location, program) enrolls it.


def test_a_covering_incentives_admin_enrolls_the_invited_location(world: World) -> None:
    invited = invite(world)
    assert statuses(invited) == ["INVITED"]
    enrollment = invited.enroll()
    assert enrollment["status"] == "ACTION_REQUIRED"
    assert statuses(invited) == ["ACTION_REQUIRED"]


@pytest.mark.parametrize("kind", ["GLOBAL_ADMIN", "ACCOUNT_ADMIN", "INCENTIVES_USER", "member"])
def test_no_one_without_a_covering_incentives_admin_assignment_enrolls(world: World, kind: str) -> None:
    invited = invite(world)
    world.forbidden(invited.partner.caller(kind), "enroll", enroll_input(invited))
    assert statuses(invited) == ["INVITED"]


def test_an_incentives_admin_of_another_location_or_program_cannot_enroll(world: World) -> None:
    invited = invite(world)
    partner = invited.partner
    other_location = partner.member("INCENTIVES_ADMIN", locations=[partner.add_location()])
    other_program = partner.member("INCENTIVES_ADMIN", programs=[world.create_program()])
    world.forbidden(other_location, "enroll", enroll_input(invited))
    world.forbidden(other_program, "enroll", enroll_input(invited))
    assert statuses(invited) == ["INVITED"]


def test_a_global_admin_who_also_holds_the_assignment_enrolls(world: World) -> None:
    invited = invite(world)
    global_admin = world.global_admin(invited.partner.tenant_id)
    invited.partner.assign(global_admin, "INCENTIVES_ADMIN", locations=[invited.location])
    payload = world.ok(global_admin, "enroll", enroll_input(invited), ENROLLMENT_FIELDS)
    assert payload["enrollment"]["status"] == "ACTION_REQUIRED"


@pytest.mark.parametrize("field", ["locationId", "programId"])
def test_enrolling_another_organizations_location_or_an_unknown_program_is_not_found(
    world: World, field: str
) -> None:
    invited = invite(world)
    foreign_location = world.partner().add_location()
    wrong = {"locationId": foreign_location, "programId": invited.location}
    error = world.user_error(invited.admin, "enroll", {**enroll_input(invited), field: wrong[field]})
    assert (error["code"], error["field"]) == ("NOT_FOUND", ["input", field])
    assert statuses(invited) == ["INVITED"]


# Rule 5: migration completed, and the location eligible (or the program open to all).


def test_enrolling_needs_the_organizations_migration_completed(world: World) -> None:
    invited = invite(world, partner=world.partner(migration_completed=False))
    error = world.user_error(invited.admin, "enroll", enroll_input(invited))
    assert error["code"] == "PREREQUISITE_MISSING"
    assert statuses(invited) == ["INVITED"]
    world.ok(invited.partner.admin, "completeMigration", {"organizationId": invited.partner.organization_id})
    assert invited.enroll()["status"] == "ACTION_REQUIRED"


def test_enrolling_needs_the_location_eligible_for_a_program_with_criteria(world: World) -> None:
    invited = invite(world, ["PARTNER_PROGRAM_AGREEMENT"])
    error = world.user_error(invited.admin, "enroll", enroll_input(invited))
    assert error["code"] == "NOT_ELIGIBLE"
    assert invited.enrollments() == []
    world.ok(
        world.operator(),
        "recordAgreement",
        {"organizationId": invited.partner.organization_id, "kind": "PARTNER_PROGRAM", "active": True},
    )
    assert invited.enroll()["status"] == "ACTION_REQUIRED"


# Rule 6: eligibility follows agreements, partner type and designation.


@pytest.mark.parametrize(
    ("partner_type", "criteria", "agreements", "eligible"),
    [
        ("INDIRECT_PROVIDER", ["DISTRIBUTOR_AGREEMENT"], [], False),
        ("INDIRECT_PROVIDER", ["DISTRIBUTOR_AGREEMENT"], ["DISTRIBUTOR"], True),
        ("DIRECT_RESELLER", ["DISTRIBUTOR_AGREEMENT"], [], True),
        ("DIRECT_RESELLER", ["RESELLER_AGREEMENT"], [], False),
        ("INDIRECT_RESELLER", ["RESELLER_AGREEMENT"], [], True),
        (
            "DIRECT_RESELLER",
            ["RESELLER_AGREEMENT", "PARTNER_PROGRAM_AGREEMENT"],
            ["RESELLER", "PARTNER_PROGRAM"],
            True,
        ),
    ],
)
def test_eligibility_follows_agreements_and_partner_type(
    world: World, partner_type: str, criteria: list[str], agreements: list[str], eligible: bool
) -> None:
    partner = eligible_partner(world, *agreements)
    location = partner.add_location(partner_type)
    program = world.create_program(criteria)
    data = world.query(partner.admin, ELIGIBILITY, {"id": location, "program": program})
    assert data["node"]["eligibility"]["eligible"] is eligible


def test_the_solutions_partner_designation_makes_a_location_eligible_and_withdrawing_it_does_not(
    world: World,
) -> None:
    partner = world.partner()
    location = partner.add_location()
    program = world.create_program(["SOLUTIONS_PARTNER_DESIGNATION"])
    seen = []
    for designated in (True, False):
        world.ok(
            world.operator(),
            "setSolutionsPartnerDesignation",
            {"organizationId": partner.organization_id, "designated": designated},
            "organization { hasSolutionsPartnerDesignation }",
        )
        data = world.query(partner.admin, ELIGIBILITY, {"id": location, "program": program})
        seen.append(data["node"]["eligibility"])
    assert seen == [
        {"eligible": True, "criteria": [{"kind": "SOLUTIONS_PARTNER_DESIGNATION", "met": True}]},
        {"eligible": False, "criteria": [{"kind": "SOLUTIONS_PARTNER_DESIGNATION", "met": False}]},
    ]


# Rule 8: profiles in place -> validation; missing -> action; updateEnrollment completes it.


def test_enrolling_with_a_valid_tax_profile_and_a_payment_profile_goes_to_validation(world: World) -> None:
    invited = invite(world)
    invited.tax_profile(VALID)
    profile = invited.payment_profile()
    enrollment = invited.enroll(profile)
    assert enrollment["status"] == "VALIDATING_ENROLLMENT"
    assert enrollment["paymentProfile"] == {"id": profile}


def test_update_enrollment_completes_an_enrollment_that_needed_action(world: World) -> None:
    invited = invite(world)
    enrollment = invited.enroll()
    invited.tax_profile(VALID)
    profile = invited.payment_profile()
    payload = world.ok(
        invited.admin,
        "updateEnrollment",
        {"enrollmentId": enrollment["id"], "paymentProfileId": profile},
        ENROLLMENT_FIELDS,
    )
    assert payload["enrollment"]["status"] == "VALIDATING_ENROLLMENT"
    assert statuses(invited) == ["VALIDATING_ENROLLMENT"]


def test_callers_who_are_not_its_incentives_admin_see_enrolling(world: World) -> None:
    invited = invite(world)
    invited.enroll()
    user = invited.partner.member("INCENTIVES_USER", locations=[invited.location], programs=[invited.program])
    assert [e["status"] for e in invited.enrollments(user)] == ["ENROLLING"]
    assert [e["status"] for e in invited.enrollments(invited.partner.admin)] == ["ENROLLING"]
    assert [e["status"] for e in invited.enrollments()] == ["ACTION_REQUIRED"]


def test_another_organizations_payment_profile_is_not_found_and_nothing_changes(world: World) -> None:
    invited = invite(world)
    foreign = invite(world).payment_profile()
    error = world.user_error(invited.admin, "enroll", {**enroll_input(invited), "paymentProfileId": foreign})
    assert (error["code"], error["field"]) == ("NOT_FOUND", ["input", "paymentProfileId"])
    assert statuses(invited) == ["INVITED"]
    enrollment = invited.enroll()
    error = world.user_error(
        invited.admin, "updateEnrollment", {"enrollmentId": enrollment["id"], "paymentProfileId": foreign}
    )
    assert (error["code"], error["field"]) == ("NOT_FOUND", ["input", "paymentProfileId"])
    assert statuses(invited) == ["ACTION_REQUIRED"]


def test_updating_another_organizations_enrollment_is_not_found(world: World) -> None:
    invited = invite(world)
    other = invite(world)
    foreign = other.enroll()
    error = world.user_error(
        invited.admin,
        "updateEnrollment",
        {"enrollmentId": foreign["id"], "paymentProfileId": invited.payment_profile()},
    )
    assert (error["code"], error["field"]) == ("NOT_FOUND", ["input", "enrollmentId"])
    assert statuses(other) == ["ACTION_REQUIRED"]


def test_an_incentives_user_cannot_update_an_enrollment(world: World) -> None:
    invited = invite(world)
    enrollment = invited.enroll()
    profile = invited.payment_profile()
    user = invited.partner.member("INCENTIVES_USER")
    world.forbidden(user, "updateEnrollment", {"enrollmentId": enrollment["id"], "paymentProfileId": profile})
    assert statuses(invited) == ["ACTION_REQUIRED"]


# Rule 9: home-page notices of EMAIL invitations, dismissed per caller.


def test_an_invited_incentives_admin_sees_the_notice_until_they_dismiss_it(world: World) -> None:
    invited = invite(world, ["PARTNER_PROGRAM_AGREEMENT"], partner=eligible_partner(world, "PARTNER_PROGRAM"))
    colleague = invited.partner.member("INCENTIVES_ADMIN", locations=[invited.location])
    notices = world.query(invited.admin, NOTICES)["viewer"]["invitations"]
    (notice,) = [n for n in notices if n["location"]["id"] == invited.location]
    assert (notice["program"]["id"], notice["channel"]) == (invited.program, "EMAIL")
    payload = world.ok(
        invited.admin, "dismissInvitation", {"invitationId": notice["id"]}, "invitation { id }"
    )
    assert payload["invitation"] == {"id": notice["id"]}
    assert notice["id"] not in [n["id"] for n in world.query(invited.admin, NOTICES)["viewer"]["invitations"]]
    assert notice["id"] in [n["id"] for n in world.query(colleague, NOTICES)["viewer"]["invitations"]]
    assert invited.enroll()["status"] == "ACTION_REQUIRED"


def test_an_open_programs_invitation_is_no_home_page_notice(world: World) -> None:
    invited = invite(world)
    notices = world.query(invited.admin, NOTICES)["viewer"]["invitations"]
    assert [n for n in notices if n["program"]["id"] == invited.program] == []


def test_dismissing_another_organizations_invitation_is_not_found(world: World) -> None:
    invited = invite(world, ["PARTNER_PROGRAM_AGREEMENT"], partner=eligible_partner(world, "PARTNER_PROGRAM"))
    (notice,) = world.query(invited.admin, NOTICES)["viewer"]["invitations"]
    stranger = world.partner().member("INCENTIVES_ADMIN")
    error = world.user_error(stranger, "dismissInvitation", {"invitationId": notice["id"]})
    assert (error["code"], error["field"]) == ("NOT_FOUND", ["input", "invitationId"])
    assert [n["id"] for n in world.query(invited.admin, NOTICES)["viewer"]["invitations"]] == [notice["id"]]


def test_enrollment_changes_are_audited_with_their_names(world: World) -> None:
    invited = invite(world)
    enrollment = invited.enroll()
    world.ok(
        invited.admin,
        "updateEnrollment",
        {"enrollmentId": enrollment["id"], "paymentProfileId": invited.payment_profile()},
    )
    assert {("enroll", invited.admin.object_id), ("updateEnrollment", invited.admin.object_id)} <= set(
        invited.partner.audit_actions()
    )
