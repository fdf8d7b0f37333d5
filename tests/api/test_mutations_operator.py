"""Operator-side mutations through the API with real tokens: rules 7, 8 (review), 12 and 13."""

from __future__ import annotations

import uuid

import pytest

from tests.api.client import ENROLLMENT_FIELDS, Client, Json
from tests.api.world import ApiWorld, Invited, enrollments_of
from tests.support.in_process import InProcessApi
from tests.support.world import year_ended

VALID = "2099-12-31"
PROGRAM = "query Program($id: ID!) { node(id: $id) { ... on IncentiveProgram { status } } }"
AGREEMENTS = "{ viewer { organization { agreements { kind active } } } }"
OPERATOR_MUTATIONS = [
    "createProgram",
    "discontinueProgram",
    "recordAgreement",
    "setSolutionsPartnerDesignation",
    "issueInvitations",
    "reviewEnrollment",
    "rollOverFiscalYear",
]


@pytest.fixture
def invited(world: ApiWorld) -> Invited:
    """A location of a new partner (with the PARTNER_PROGRAM agreement the roll-forward asks for,
    rule 14), invited to a new program open to all, and its Incentives admin."""
    partner = world.partner()
    world.agree(partner, "PARTNER_PROGRAM")
    return world.invited(partner=partner)


def operator_inputs(invited: Invited) -> dict[str, Json]:
    organization = invited.partner.organization_id
    return {
        "createProgram": {"code": "NEVER", "name": "Never", "criteria": []},
        "discontinueProgram": {"programId": invited.program},
        "recordAgreement": {"organizationId": organization, "kind": "RESELLER", "active": True},
        "setSolutionsPartnerDesignation": {"organizationId": organization, "designated": True},
        "issueInvitations": {"programId": invited.program},
        "reviewEnrollment": {"enrollmentId": "RW5yb2xsbWVudDox", "approved": True},
        "rollOverFiscalYear": {"fromFiscalYear": 2000},
    }


@pytest.mark.parametrize("mutation", OPERATOR_MUTATIONS)
@pytest.mark.parametrize("kind", ["GLOBAL_ADMIN", "ACCOUNT_ADMIN", "INCENTIVES_ADMIN"])
def test_partner_callers_may_not_run_operator_mutations(
    world: ApiWorld, client: Client, invited: Invited, mutation: str, kind: str
) -> None:
    client.forbidden(world.caller(invited.partner, kind), mutation, operator_inputs(invited)[mutation])


def test_an_operator_creates_programs_with_criteria_or_open_to_all(client: Client) -> None:
    operator = client.operator()
    fields = "program { code name status openToAllPartners criteria }"
    open_program = client.ok(
        operator, "createProgram", {"code": f"O{world_code()}", "name": " Open ", "criteria": []}, fields
    )["program"]
    assert (open_program["name"], open_program["status"], open_program["openToAllPartners"]) == (
        "Open",
        "ACTIVE",
        True,
    )
    gated = client.ok(
        operator,
        "createProgram",
        {"code": f"G{world_code()}", "name": "Gated", "criteria": ["PARTNER_PROGRAM_AGREEMENT"]},
        fields,
    )["program"]
    assert (gated["openToAllPartners"], gated["criteria"]) == (False, ["PARTNER_PROGRAM_AGREEMENT"])


def world_code() -> str:
    return uuid.uuid4().hex[:12].upper()


def test_a_program_code_is_unique(client: Client) -> None:
    code = f"U{world_code()}"
    client.ok(client.operator(), "createProgram", {"code": code, "name": "First", "criteria": []})
    error = client.user_error(
        client.operator(), "createProgram", {"code": code, "name": "Second", "criteria": []}
    )
    assert error["code"] == "CONFLICT"


@pytest.mark.parametrize(
    ("input", "field"),
    [({"code": "C" * 33, "name": "Long code"}, "code"), ({"code": "LONGNAME", "name": "N" * 201}, "name")],
    ids=["code too long", "name too long"],
)
def test_overlong_program_input_is_invalid(client: Client, input: Json, field: str) -> None:
    error = client.user_error(client.operator(), "createProgram", {**input, "criteria": []})
    assert (error["code"], error["field"]) == ("INVALID", ["input", field])


# Rule 7: invitations once per location and fiscal year, with an INVITED enrollment.


def issue_invitations(client: Client, program: str) -> int:
    payload = client.ok(client.operator(), "issueInvitations", {"programId": program}, "invitationsCreated")
    created: int = payload["invitationsCreated"]
    return created


def test_issuing_invitations_again_creates_nothing_new(client: Client, world: ApiWorld) -> None:
    partner = world.partner()
    location = world.location(partner)
    program = world.program()
    assert issue_invitations(client, program) == 1
    assert issue_invitations(client, program) == 0
    (enrollment,) = client.enrollments(partner.admin, location, program)
    assert (enrollment["status"], enrollment["fiscalYear"]) == (
        "INVITED",
        client.current_fiscal_year(partner.admin),
    )


def test_a_program_with_criteria_invites_only_eligible_locations(client: Client, world: ApiWorld) -> None:
    program = world.program(["RESELLER_AGREEMENT"])
    partner = world.partner()
    direct = world.location(partner, "DIRECT_RESELLER")
    indirect = world.location(partner, "INDIRECT_RESELLER")
    issue_invitations(client, program)
    assert [e["status"] for e in client.enrollments(partner.admin, direct, program)] == []
    assert [e["status"] for e in client.enrollments(partner.admin, indirect, program)] == ["INVITED"]


@pytest.mark.parametrize(
    ("mutation", "input", "field"),
    [
        ("issueInvitations", {"programId": "bm9wZQ"}, "programId"),
        ("discontinueProgram", {"programId": "T3JnYW5pemF0aW9uOjE"}, "programId"),
        (
            "recordAgreement",
            {"organizationId": "bm9wZQ", "kind": "RESELLER", "active": True},
            "organizationId",
        ),
        (
            "setSolutionsPartnerDesignation",
            {"organizationId": "SW5jZW50aXZlUHJvZ3JhbTox", "designated": True},
            "organizationId",
        ),
        ("reviewEnrollment", {"enrollmentId": "bm9wZQ", "approved": True}, "enrollmentId"),
    ],
)
def test_unknown_or_wrong_kind_ids_are_not_found(
    client: Client, mutation: str, input: Json, field: str
) -> None:
    error = client.user_error(client.operator(), mutation, input)
    assert (error["code"], error["field"]) == ("NOT_FOUND", ["input", field])


def test_a_recorded_agreement_shows_on_the_organization_at_once(world: ApiWorld, client: Client) -> None:
    partner = world.partner()
    payload = client.ok(
        client.operator(),
        "recordAgreement",
        {"organizationId": partner.organization_id, "kind": "DISTRIBUTOR", "active": True},
        "organization { id agreements { kind active } }",
    )
    assert payload["organization"]["agreements"] == [{"kind": "DISTRIBUTOR", "active": True}]
    assert client.query(partner.admin, AGREEMENTS)["viewer"]["organization"]["agreements"] == [
        {"kind": "DISTRIBUTOR", "active": True}
    ]


# Rule 8: the operator's review, and discontinued programs.


def test_approval_enrolls_from_the_first_of_the_current_month(
    client: Client, world: ApiWorld, invited: Invited, api: InProcessApi
) -> None:
    enrollment = approve(client, world.validating(invited, VALID))
    assert enrollment["status"] == "ENROLLED"
    assert enrollment["earningsStartDate"] == api.clock.today().replace(day=1).isoformat()
    assert [e["status"] for e in enrollments_of(client, invited)] == ["ENROLLED"]


def test_rejection_sends_the_enrollment_back_to_action_required(
    world: ApiWorld, client: Client, invited: Invited
) -> None:
    review = {"approved": False, "reason": " Bank details unreadable "}
    payload = client.ok(
        client.operator(), "reviewEnrollment", reviewing(world, invited, review), ENROLLMENT_FIELDS
    )
    assert payload["enrollment"]["status"] == "ACTION_REQUIRED"
    assert [e["status"] for e in enrollments_of(client, invited)] == ["ACTION_REQUIRED"]


def test_an_overlong_review_reason_is_invalid_and_changes_nothing(
    world: ApiWorld, client: Client, invited: Invited
) -> None:
    review = {"approved": False, "reason": "r" * 501}
    error = client.user_error(client.operator(), "reviewEnrollment", reviewing(world, invited, review))
    assert (error["code"], error["field"]) == ("INVALID", ["input", "reason"])
    assert [e["status"] for e in enrollments_of(client, invited)] == ["VALIDATING_ENROLLMENT"]


def reviewing(world: ApiWorld, invited: Invited, review: Json) -> Json:
    """The reviewEnrollment input for the invited location's enrollment, brought to validation first."""
    return {"enrollmentId": world.validating(invited, VALID), **review}


def approve(client: Client, enrollment_id: str) -> Json:
    """The operator's approval through the API: the enrollment as it answers."""
    review = {"enrollmentId": enrollment_id, "approved": True}
    enrollment: Json = client.ok(client.operator(), "reviewEnrollment", review, ENROLLMENT_FIELDS)[
        "enrollment"
    ]
    return enrollment


def test_a_discontinued_program_shows_all_its_enrollments_discontinued(
    world: ApiWorld, client: Client, invited: Invited
) -> None:
    world.enroll(invited)
    payload = client.ok(
        client.operator(), "discontinueProgram", {"programId": invited.program}, "program { status }"
    )
    assert payload["program"]["status"] == "DISCONTINUED"
    assert [e["status"] for e in enrollments_of(client, invited)] == ["DISCONTINUED"]


# Rule 12: the roll-forward.


def roll_over(client: Client, fiscal_year: int, api: InProcessApi) -> Json:
    """The operator's roll-forward, on the API's clock moved to the day the year has ended (rule 23)."""
    api.clock.at = max(api.clock.at, year_ended(fiscal_year))
    return client.ok(
        client.operator(),
        "rollOverFiscalYear",
        {"fromFiscalYear": fiscal_year},
        "carried actionRequired ineligible inactive",
    )


def test_rolling_over_carries_enrolled_enrollments_and_running_it_again_changes_nothing(
    world: ApiWorld, client: Client, invited: Invited, api: InProcessApi
) -> None:
    year = client.current_fiscal_year(invited.admin)
    world.enrolled(invited, VALID)
    (enrolled,) = enrollments_of(client, invited)
    assert roll_over(client, year, api)["carried"] == 1
    assert roll_over(client, year, api) == {
        "carried": 0,
        "actionRequired": 0,
        "ineligible": 0,
        "inactive": 0,
        "userErrors": [],
    }
    (carried,) = enrollments_of(client, invited, fiscal_year=year + 1)
    assert (carried["status"], carried["paymentProfile"]) == ("ENROLLED", enrolled["paymentProfile"])


def test_a_tax_profile_expiring_by_july_first_asks_for_action_after_the_roll_over(
    world: ApiWorld, client: Client, invited: Invited, api: InProcessApi
) -> None:
    year = client.current_fiscal_year(invited.admin)
    world.enrolled(invited, f"{year}-07-01")
    assert roll_over(client, year, api)["actionRequired"] == 1
    assert [e["status"] for e in enrollments_of(client, invited, fiscal_year=year + 1)] == ["ACTION_REQUIRED"]


def test_a_location_no_longer_eligible_is_rolled_over_ineligible(
    world: ApiWorld, client: Client, api: InProcessApi
) -> None:
    partner = world.partner()
    world.agree(partner, "PARTNER_PROGRAM")
    invited = world.invited(["PARTNER_PROGRAM_AGREEMENT"], partner=partner)
    year = client.current_fiscal_year(invited.admin)
    world.enrolled(invited, VALID)
    world.agree(partner, "PARTNER_PROGRAM", active=False)
    assert roll_over(client, year, api)["ineligible"] == 1
    assert [e["status"] for e in enrollments_of(client, invited, fiscal_year=year + 1)] == ["INELIGIBLE"]


def test_enrollments_not_enrolled_are_not_carried(
    world: ApiWorld, client: Client, invited: Invited, api: InProcessApi
) -> None:
    year = client.current_fiscal_year(invited.admin)
    world.enroll(invited)
    roll_over(client, year, api)
    assert enrollments_of(client, invited, fiscal_year=year + 1) == []


# Rule 13: operator changes are in the organization's audit log too.


def test_operator_mutations_are_audited_in_the_organizations_log(
    world: ApiWorld, client: Client, invited: Invited
) -> None:
    operator = client.operator()
    organization = invited.partner.organization_id
    client.ok(
        operator, "recordAgreement", {"organizationId": organization, "kind": "RESELLER", "active": True}
    )
    client.ok(
        operator, "setSolutionsPartnerDesignation", {"organizationId": organization, "designated": True}
    )
    enrollment = world.validating(invited, VALID)
    client.ok(operator, "reviewEnrollment", {"enrollmentId": enrollment, "approved": True})
    actions = {action for action, _ in client.audit_actions(invited.partner.admin)}
    assert {
        "recordAgreement",
        "setSolutionsPartnerDesignation",
        "issueInvitations",
        "reviewEnrollment",
    } <= actions
    assert ("recordAgreement", operator.object_id) in client.audit_actions(invited.partner.admin)


AUDIT_NAMES = """{ viewer { organization { auditLog(first: 100) { edges { node {
  action actorObjectId actorDisplayName targetId
  target { __typename id ... on Location { name } ... on IncentiveProgram { code } } } } } } } }"""


def test_the_audit_log_names_who_changed_what_and_what_it_was(
    world: ApiWorld, client: Client, invited: Invited
) -> None:
    partner = invited.partner
    operator = client.operator()
    client.ok(
        operator,
        "recordAgreement",
        {"organizationId": partner.organization_id, "kind": "RESELLER", "active": True},
    )
    revoked = world.assign(partner, world.user(partner), "INCENTIVES_USER")
    client.ok(partner.admin, "revokeRole", {"roleAssignmentId": revoked})
    added = client.ok(
        partner.admin,
        "addLocation",
        {"name": "Malmö", "country": "SE", "partnerType": "DIRECT_RESELLER"},
        "location { id }",
    )["location"]["id"]
    log = client.query(partner.admin, AUDIT_NAMES)["viewer"]["organization"]["auditLog"]
    by_action: dict[str, Json] = {}
    for edge in log["edges"]:  # newest first: each action's latest event
        by_action.setdefault(edge["node"]["action"], edge["node"])
    # A person by the name their token carried; an operator's is not known to the service.
    assert by_action["addLocation"]["actorDisplayName"] == "Gale Admin"
    assert by_action["recordAgreement"]["actorDisplayName"] is None
    assert by_action["recordAgreement"]["actorObjectId"] == operator.object_id
    # The target, readable as the object it is, with the same ID as `targetId`.
    assert by_action["addLocation"]["target"] == {"__typename": "Location", "id": added, "name": "Malmö"}
    invitations = by_action["issueInvitations"]
    assert invitations["targetId"] == invited.program
    assert invitations["target"]["__typename"] == "IncentiveProgram"
    # A revoked assignment is gone: its ID remains, the object does not.
    assert (by_action["revokeRole"]["targetId"], by_action["revokeRole"]["target"]) == (revoked, None)


def test_each_mutation_of_one_request_shows_the_data_as_it_left_it(world: ApiWorld, client: Client) -> None:
    partner = world.partner()
    change = (
        "recordAgreement(input: {{organizationId: $id, kind: RESELLER, active: {active}}})"
        " {{ organization {{ agreements {{ kind active }} }} }}"
    )
    document = (
        f"mutation Twice($id: ID!) {{ first: {change.format(active='true')}"
        f" second: {change.format(active='false')} }}"
    )
    data = client.query(client.operator(), document, {"id": partner.organization_id})
    assert data["first"]["organization"]["agreements"] == [{"kind": "RESELLER", "active": True}]
    assert data["second"]["organization"]["agreements"] == [{"kind": "RESELLER", "active": False}]
