"""Enrolling through the API with real tokens: rules 4, 5, 6, 8 (partner side) and 9 of the contract."""

from __future__ import annotations

import pytest

from tests.api.client import ENROLLMENT_FIELDS, Client, Json
from tests.api.world import ApiWorld, Invited, Partner, enrollments_of

VALID = "2099-12-31"
ELIGIBILITY = """
query Eligibility($id: ID!, $program: ID!) { node(id: $id) { ... on Location {
  eligibility(programId: $program) { eligible criteria { kind met } } } } }
"""
NOTICES = "{ viewer { invitations { id program { id } location { id } channel } } }"


def enroll_input(invited: Invited) -> dict[str, str]:
    return {"locationId": invited.location, "programId": invited.program}


def statuses(client: Client, invited: Invited) -> list[str]:
    return [enrollment["status"] for enrollment in enrollments_of(client, invited)]


def enroll(client: Client, invited: Invited, payment_profile: str | None = None) -> Json:
    """The invited location enrolled by its admin through the API (the enrollment as it answers)."""
    input: Json = enroll_input(invited)
    if payment_profile is not None:
        input["paymentProfileId"] = payment_profile
    enrollment: Json = client.ok(invited.admin, "enroll", input, ENROLLMENT_FIELDS)["enrollment"]
    return enrollment


def eligible_partner(world: ApiWorld, *agreements: str) -> Partner:
    partner = world.partner()
    world.agree(partner, *agreements)
    return partner


# Rule 4: only an Incentives admin covering (location, program) enrolls it.


def test_a_covering_incentives_admin_enrolls_the_invited_location(client: Client, world: ApiWorld) -> None:
    invited = world.invited()
    assert statuses(client, invited) == ["INVITED"]
    enrollment = enroll(client, invited)
    assert enrollment["status"] == "ACTION_REQUIRED"
    assert statuses(client, invited) == ["ACTION_REQUIRED"]


@pytest.mark.parametrize("kind", ["GLOBAL_ADMIN", "ACCOUNT_ADMIN", "INCENTIVES_USER", "member"])
def test_no_one_without_a_covering_incentives_admin_assignment_enrolls(
    world: ApiWorld, client: Client, kind: str
) -> None:
    invited = world.invited()
    client.forbidden(world.caller(invited.partner, kind), "enroll", enroll_input(invited))
    assert statuses(client, invited) == ["INVITED"]


def test_an_incentives_admin_of_another_location_or_program_cannot_enroll(
    world: ApiWorld, client: Client
) -> None:
    invited = world.invited()
    partner = invited.partner
    other_location = world.member(partner, "INCENTIVES_ADMIN", locations=[world.location(partner)])
    other_program = world.member(partner, "INCENTIVES_ADMIN", programs=[world.program()])
    client.forbidden(other_location, "enroll", enroll_input(invited))
    client.forbidden(other_program, "enroll", enroll_input(invited))
    assert statuses(client, invited) == ["INVITED"]


def test_a_global_admin_who_also_holds_the_assignment_enrolls(world: ApiWorld, client: Client) -> None:
    invited = world.invited()
    global_admin = client.global_admin(invited.partner.tenant_id)
    world.assign(invited.partner, global_admin, "INCENTIVES_ADMIN", locations=[invited.location])
    payload = client.ok(global_admin, "enroll", enroll_input(invited), ENROLLMENT_FIELDS)
    assert payload["enrollment"]["status"] == "ACTION_REQUIRED"


@pytest.mark.parametrize("field", ["locationId", "programId"])
def test_enrolling_another_organizations_location_or_an_unknown_program_is_not_found(
    world: ApiWorld, client: Client, field: str
) -> None:
    invited = world.invited()
    foreign_location = world.location(world.partner())
    wrong = {"locationId": foreign_location, "programId": invited.location}
    error = client.user_error(invited.admin, "enroll", {**enroll_input(invited), field: wrong[field]})
    assert (error["code"], error["field"]) == ("NOT_FOUND", ["input", field])
    assert statuses(client, invited) == ["INVITED"]


# Rule 5: migration completed, and the location eligible (or the program open to all).


def test_enrolling_needs_the_organizations_migration_completed(world: ApiWorld, client: Client) -> None:
    invited = world.invited(partner=world.partner(migration_completed=False))
    error = client.user_error(invited.admin, "enroll", enroll_input(invited))
    assert error["code"] == "PREREQUISITE_MISSING"
    assert statuses(client, invited) == ["INVITED"]
    client.ok(invited.partner.admin, "completeMigration", {"organizationId": invited.partner.organization_id})
    assert enroll(client, invited)["status"] == "ACTION_REQUIRED"


def test_enrolling_needs_the_location_eligible_for_a_program_with_criteria(
    world: ApiWorld, client: Client
) -> None:
    invited = world.invited(["PARTNER_PROGRAM_AGREEMENT"])
    error = client.user_error(invited.admin, "enroll", enroll_input(invited))
    assert error["code"] == "NOT_ELIGIBLE"
    assert enrollments_of(client, invited) == []
    client.ok(
        client.operator(),
        "recordAgreement",
        {"organizationId": invited.partner.organization_id, "kind": "PARTNER_PROGRAM", "active": True},
    )
    assert enroll(client, invited)["status"] == "ACTION_REQUIRED"


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
    world: ApiWorld,
    client: Client,
    partner_type: str,
    criteria: list[str],
    agreements: list[str],
    eligible: bool,
) -> None:
    partner = eligible_partner(world, *agreements)
    location = world.location(partner, partner_type)
    program = world.program(criteria)
    data = client.query(partner.admin, ELIGIBILITY, {"id": location, "program": program})
    assert data["node"]["eligibility"]["eligible"] is eligible


def test_the_solutions_partner_designation_makes_a_location_eligible_and_withdrawing_it_does_not(
    world: ApiWorld, client: Client
) -> None:
    partner = world.partner()
    location = world.location(partner)
    program = world.program(["SOLUTIONS_PARTNER_DESIGNATION"])
    seen = []
    for designated in (True, False):
        client.ok(
            client.operator(),
            "setSolutionsPartnerDesignation",
            {"organizationId": partner.organization_id, "designated": designated},
            "organization { hasSolutionsPartnerDesignation }",
        )
        data = client.query(partner.admin, ELIGIBILITY, {"id": location, "program": program})
        seen.append(data["node"]["eligibility"])
    assert seen == [
        {"eligible": True, "criteria": [{"kind": "SOLUTIONS_PARTNER_DESIGNATION", "met": True}]},
        {"eligible": False, "criteria": [{"kind": "SOLUTIONS_PARTNER_DESIGNATION", "met": False}]},
    ]


# Rule 8: profiles in place -> validation; missing -> action; updateEnrollment completes it.


def test_enrolling_with_a_valid_tax_profile_and_a_payment_profile_goes_to_validation(
    client: Client, world: ApiWorld
) -> None:
    invited = world.invited()
    world.tax_profile(invited, VALID)
    profile = world.payment_profile(invited)
    enrollment = enroll(client, invited, profile)
    assert enrollment["status"] == "VALIDATING_ENROLLMENT"
    assert enrollment["paymentProfile"] == {"id": profile}


def test_update_enrollment_completes_an_enrollment_that_needed_action(
    world: ApiWorld, client: Client
) -> None:
    invited = world.invited()
    enrollment = world.enroll(invited)
    world.tax_profile(invited, VALID)
    profile = world.payment_profile(invited)
    payload = client.ok(
        invited.admin,
        "updateEnrollment",
        {"enrollmentId": enrollment, "paymentProfileId": profile},
        ENROLLMENT_FIELDS,
    )
    assert payload["enrollment"]["status"] == "VALIDATING_ENROLLMENT"
    assert statuses(client, invited) == ["VALIDATING_ENROLLMENT"]


def test_callers_who_are_not_its_incentives_admin_see_enrolling(client: Client, world: ApiWorld) -> None:
    invited = world.invited()
    world.enroll(invited)
    user = world.member(
        invited.partner, "INCENTIVES_USER", locations=[invited.location], programs=[invited.program]
    )
    assert [e["status"] for e in enrollments_of(client, invited, user)] == ["ENROLLING"]
    assert [e["status"] for e in enrollments_of(client, invited, invited.partner.admin)] == ["ENROLLING"]
    assert [e["status"] for e in enrollments_of(client, invited)] == ["ACTION_REQUIRED"]


def test_another_organizations_payment_profile_is_not_found_and_nothing_changes(
    world: ApiWorld, client: Client
) -> None:
    invited = world.invited()
    foreign = world.payment_profile(world.invited())
    error = client.user_error(invited.admin, "enroll", {**enroll_input(invited), "paymentProfileId": foreign})
    assert (error["code"], error["field"]) == ("NOT_FOUND", ["input", "paymentProfileId"])
    assert statuses(client, invited) == ["INVITED"]
    enrollment = enroll(client, invited)
    error = client.user_error(
        invited.admin, "updateEnrollment", {"enrollmentId": enrollment["id"], "paymentProfileId": foreign}
    )
    assert (error["code"], error["field"]) == ("NOT_FOUND", ["input", "paymentProfileId"])
    assert statuses(client, invited) == ["ACTION_REQUIRED"]


def test_updating_another_organizations_enrollment_is_not_found(world: ApiWorld, client: Client) -> None:
    invited = world.invited()
    other = world.invited()
    foreign = world.enroll(other)
    error = client.user_error(
        invited.admin,
        "updateEnrollment",
        {"enrollmentId": foreign, "paymentProfileId": world.payment_profile(invited)},
    )
    assert (error["code"], error["field"]) == ("NOT_FOUND", ["input", "enrollmentId"])
    assert statuses(client, other) == ["ACTION_REQUIRED"]


def test_an_incentives_user_cannot_update_an_enrollment(world: ApiWorld, client: Client) -> None:
    invited = world.invited()
    enrollment = world.enroll(invited)
    profile = world.payment_profile(invited)
    user = world.member(invited.partner, "INCENTIVES_USER")
    client.forbidden(user, "updateEnrollment", {"enrollmentId": enrollment, "paymentProfileId": profile})
    assert statuses(client, invited) == ["ACTION_REQUIRED"]


# Rule 9: home-page notices of EMAIL invitations, dismissed per caller.


def test_an_invited_incentives_admin_sees_the_notice_until_they_dismiss_it(
    world: ApiWorld, client: Client
) -> None:
    invited = world.invited(["PARTNER_PROGRAM_AGREEMENT"], partner=eligible_partner(world, "PARTNER_PROGRAM"))
    colleague = world.member(invited.partner, "INCENTIVES_ADMIN", locations=[invited.location])
    notices = client.query(invited.admin, NOTICES)["viewer"]["invitations"]
    (notice,) = [n for n in notices if n["location"]["id"] == invited.location]
    assert (notice["program"]["id"], notice["channel"]) == (invited.program, "EMAIL")
    payload = client.ok(
        invited.admin, "dismissInvitation", {"invitationId": notice["id"]}, "invitation { id }"
    )
    assert payload["invitation"] == {"id": notice["id"]}
    assert notice["id"] not in [
        n["id"] for n in client.query(invited.admin, NOTICES)["viewer"]["invitations"]
    ]
    assert notice["id"] in [n["id"] for n in client.query(colleague, NOTICES)["viewer"]["invitations"]]
    assert enroll(client, invited)["status"] == "ACTION_REQUIRED"


def test_an_open_programs_invitation_is_no_home_page_notice(world: ApiWorld, client: Client) -> None:
    invited = world.invited()
    notices = client.query(invited.admin, NOTICES)["viewer"]["invitations"]
    assert [n for n in notices if n["program"]["id"] == invited.program] == []


def test_dismissing_another_organizations_invitation_is_not_found(world: ApiWorld, client: Client) -> None:
    invited = world.invited(["PARTNER_PROGRAM_AGREEMENT"], partner=eligible_partner(world, "PARTNER_PROGRAM"))
    (notice,) = client.query(invited.admin, NOTICES)["viewer"]["invitations"]
    stranger = world.member(world.partner(), "INCENTIVES_ADMIN")
    error = client.user_error(stranger, "dismissInvitation", {"invitationId": notice["id"]})
    assert (error["code"], error["field"]) == ("NOT_FOUND", ["input", "invitationId"])
    assert [n["id"] for n in client.query(invited.admin, NOTICES)["viewer"]["invitations"]] == [notice["id"]]


def test_enrollment_changes_are_audited_with_their_names(world: ApiWorld, client: Client) -> None:
    invited = world.invited()
    enrollment = enroll(client, invited)
    client.ok(
        invited.admin,
        "updateEnrollment",
        {"enrollmentId": enrollment["id"], "paymentProfileId": world.payment_profile(invited)},
    )
    assert {("enroll", invited.admin.object_id), ("updateEnrollment", invited.admin.object_id)} <= set(
        client.audit_actions(invited.partner.admin)
    )
