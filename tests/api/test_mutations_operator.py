"""Operator-side mutations through HTTP with real tokens: rules 7, 8 (review), 12 and 13 of the contract."""

from __future__ import annotations

import uuid

import pytest

from tests.api.mutation_world import (
    ENROLLMENT_FIELDS,
    GraphqlServer,
    Invited,
    Json,
    World,
    current_fiscal_year,
    invite,
)
from tests.support.entra import RunningEntra
from tests.support.in_process import InProcessApi

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
def world(api: GraphqlServer, entra: RunningEntra) -> World:
    return World(api, entra)


@pytest.fixture
def invited(world: World) -> Invited:
    """A location of a new partner, invited to a new program open to all, and its Incentives admin."""
    return invite(world)


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
    world: World, invited: Invited, mutation: str, kind: str
) -> None:
    world.forbidden(invited.partner.caller(kind), mutation, operator_inputs(invited)[mutation])


def test_an_operator_creates_programs_with_criteria_or_open_to_all(world: World) -> None:
    operator = world.operator()
    fields = "program { code name status openToAllPartners criteria }"
    open_program = world.ok(
        operator, "createProgram", {"code": f"O{world_code()}", "name": " Open ", "criteria": []}, fields
    )["program"]
    assert (open_program["name"], open_program["status"], open_program["openToAllPartners"]) == (
        "Open",
        "ACTIVE",
        True,
    )
    gated = world.ok(
        operator,
        "createProgram",
        {"code": f"G{world_code()}", "name": "Gated", "criteria": ["PARTNER_PROGRAM_AGREEMENT"]},
        fields,
    )["program"]
    assert (gated["openToAllPartners"], gated["criteria"]) == (False, ["PARTNER_PROGRAM_AGREEMENT"])


def world_code() -> str:
    return uuid.uuid4().hex[:12].upper()


def test_a_program_code_is_unique(world: World) -> None:
    code = f"U{world_code()}"
    world.ok(world.operator(), "createProgram", {"code": code, "name": "First", "criteria": []})
    error = world.user_error(
        world.operator(), "createProgram", {"code": code, "name": "Second", "criteria": []}
    )
    assert error["code"] == "CONFLICT"


@pytest.mark.parametrize(
    ("input", "field"),
    [({"code": "C" * 33, "name": "Long code"}, "code"), ({"code": "LONGNAME", "name": "N" * 201}, "name")],
    ids=["code too long", "name too long"],
)
def test_overlong_program_input_is_invalid(world: World, input: Json, field: str) -> None:
    error = world.user_error(world.operator(), "createProgram", {**input, "criteria": []})
    assert (error["code"], error["field"]) == ("INVALID", ["input", field])


# Rule 7: invitations once per location and fiscal year, with an INVITED enrollment.


def test_issuing_invitations_again_creates_nothing_new(world: World) -> None:
    partner = world.partner()
    location = partner.add_location()
    program = world.create_program()
    assert world.invite(program) >= 1
    assert world.invite(program) == 0
    invited = Invited(partner=partner, location=location, program=program, admin=partner.admin)
    (enrollment,) = invited.enrollments()
    assert (enrollment["status"], enrollment["fiscalYear"]) == (
        "INVITED",
        current_fiscal_year(world, partner.admin),
    )


def test_a_program_with_criteria_invites_only_eligible_locations(world: World) -> None:
    program = world.create_program(["RESELLER_AGREEMENT"])
    partner = world.partner()
    direct = partner.add_location("DIRECT_RESELLER")
    indirect = partner.add_location("INDIRECT_RESELLER")
    world.invite(program)
    assert [e["status"] for e in Invited(partner, direct, program, partner.admin).enrollments()] == []
    assert [e["status"] for e in Invited(partner, indirect, program, partner.admin).enrollments()] == [
        "INVITED"
    ]


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
    world: World, mutation: str, input: Json, field: str
) -> None:
    error = world.user_error(world.operator(), mutation, input)
    assert (error["code"], error["field"]) == ("NOT_FOUND", ["input", field])


def test_a_recorded_agreement_shows_on_the_organization_at_once(world: World) -> None:
    partner = world.partner()
    payload = world.ok(
        world.operator(),
        "recordAgreement",
        {"organizationId": partner.organization_id, "kind": "DISTRIBUTOR", "active": True},
        "organization { id agreements { kind active } }",
    )
    assert payload["organization"]["agreements"] == [{"kind": "DISTRIBUTOR", "active": True}]
    assert world.query(partner.admin, AGREEMENTS)["viewer"]["organization"]["agreements"] == [
        {"kind": "DISTRIBUTOR", "active": True}
    ]


# Rule 8: the operator's review, and discontinued programs.


def test_approval_enrolls_from_the_first_of_the_current_month(
    world: World, invited: Invited, api: InProcessApi
) -> None:
    enrollment = invited.enrolled(VALID)
    assert enrollment["status"] == "ENROLLED"
    assert enrollment["earningsStartDate"] == api.clock.today().replace(day=1).isoformat()
    assert [e["status"] for e in invited.enrollments()] == ["ENROLLED"]


def test_rejection_sends_the_enrollment_back_to_action_required(world: World, invited: Invited) -> None:
    review = {"approved": False, "reason": " Bank details unreadable "}
    payload = world.ok(world.operator(), "reviewEnrollment", reviewing(invited, review), ENROLLMENT_FIELDS)
    assert payload["enrollment"]["status"] == "ACTION_REQUIRED"
    assert [e["status"] for e in invited.enrollments()] == ["ACTION_REQUIRED"]


def test_an_overlong_review_reason_is_invalid_and_changes_nothing(world: World, invited: Invited) -> None:
    review = {"approved": False, "reason": "r" * 501}
    error = world.user_error(world.operator(), "reviewEnrollment", reviewing(invited, review))
    assert (error["code"], error["field"]) == ("INVALID", ["input", "reason"])
    assert [e["status"] for e in invited.enrollments()] == ["VALIDATING_ENROLLMENT"]


def reviewing(invited: Invited, review: Json) -> Json:
    """The reviewEnrollment input for the invited location's enrollment, brought to validation first."""
    return {"enrollmentId": invited.validating(VALID)["id"], **review}


def test_a_discontinued_program_shows_all_its_enrollments_discontinued(
    world: World, invited: Invited
) -> None:
    invited.enroll()
    payload = world.ok(
        world.operator(), "discontinueProgram", {"programId": invited.program}, "program { status }"
    )
    assert payload["program"]["status"] == "DISCONTINUED"
    assert [e["status"] for e in invited.enrollments()] == ["DISCONTINUED"]


# Rule 12: the roll-forward.


def roll_over(world: World, fiscal_year: int) -> Json:
    return world.ok(
        world.operator(),
        "rollOverFiscalYear",
        {"fromFiscalYear": fiscal_year},
        "carried actionRequired ineligible inactive",
    )


def test_rolling_over_carries_enrolled_enrollments_and_running_it_again_changes_nothing(
    world: World, invited: Invited
) -> None:
    year = current_fiscal_year(world, invited.admin)
    enrolled = invited.enrolled(VALID)
    assert roll_over(world, year)["carried"] >= 1
    assert roll_over(world, year) == {
        "carried": 0,
        "actionRequired": 0,
        "ineligible": 0,
        "inactive": 0,
        "userErrors": [],
    }
    (carried,) = invited.enrollments(fiscal_year=year + 1)
    assert (carried["status"], carried["paymentProfile"]) == ("ENROLLED", enrolled["paymentProfile"])


def test_a_tax_profile_expiring_by_july_first_asks_for_action_after_the_roll_over(
    world: World, invited: Invited
) -> None:
    year = current_fiscal_year(world, invited.admin)
    invited.enrolled(f"{year}-07-01")
    assert roll_over(world, year)["actionRequired"] >= 1
    assert [e["status"] for e in invited.enrollments(fiscal_year=year + 1)] == ["ACTION_REQUIRED"]


def test_a_location_no_longer_eligible_is_rolled_over_ineligible(world: World) -> None:
    partner = world.partner()
    operator = world.operator()
    agreement = {"organizationId": partner.organization_id, "kind": "PARTNER_PROGRAM", "active": True}
    world.ok(operator, "recordAgreement", agreement)
    invited = invite(world, ["PARTNER_PROGRAM_AGREEMENT"], partner=partner)
    year = current_fiscal_year(world, invited.admin)
    invited.enrolled(VALID)
    world.ok(operator, "recordAgreement", {**agreement, "active": False})
    assert roll_over(world, year)["ineligible"] >= 1
    assert [e["status"] for e in invited.enrollments(fiscal_year=year + 1)] == ["INELIGIBLE"]


def test_enrollments_not_enrolled_are_not_carried(world: World, invited: Invited) -> None:
    year = current_fiscal_year(world, invited.admin)
    invited.enroll()
    roll_over(world, year)
    assert invited.enrollments(fiscal_year=year + 1) == []


# Rule 13: operator changes are in the organization's audit log too.


def test_operator_mutations_are_audited_in_the_organizations_log(world: World, invited: Invited) -> None:
    operator = world.operator()
    organization = invited.partner.organization_id
    world.ok(
        operator, "recordAgreement", {"organizationId": organization, "kind": "RESELLER", "active": True}
    )
    world.ok(operator, "setSolutionsPartnerDesignation", {"organizationId": organization, "designated": True})
    enrollment = invited.validating(VALID)
    world.ok(operator, "reviewEnrollment", {"enrollmentId": enrollment["id"], "approved": True})
    actions = {action for action, _ in invited.partner.audit_actions()}
    assert {
        "recordAgreement",
        "setSolutionsPartnerDesignation",
        "issueInvitations",
        "reviewEnrollment",
    } <= actions
    assert ("recordAgreement", operator.object_id) in invited.partner.audit_actions()


def test_each_mutation_of_one_request_shows_the_data_as_it_left_it(world: World) -> None:
    partner = world.partner()
    change = (
        "recordAgreement(input: {{organizationId: $id, kind: RESELLER, active: {active}}})"
        " {{ organization {{ agreements {{ kind active }} }} }}"
    )
    document = (
        f"mutation Twice($id: ID!) {{ first: {change.format(active='true')}"
        f" second: {change.format(active='false')} }}"
    )
    data = world.query(world.operator(), document, {"id": partner.organization_id})
    assert data["first"]["organization"]["agreements"] == [{"kind": "RESELLER", "active": True}]
    assert data["second"]["organization"]["agreements"] == [{"kind": "RESELLER", "active": False}]
