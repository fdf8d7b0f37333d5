"""Reading through the API: who sees what, paging, projections and field-level refusals."""

from __future__ import annotations

from typing import Any

from api.graphql.ids import to_global_id
from domain.model import Invitation
from domain.vocabulary import CriterionKind, InvitationChannel
from tests.api.conftest import Seeded
from tests.api.world import ApiWorld, key
from tests.support.entra import RunningEntra
from tests.support.in_process import InProcessApi
from tests.support.personas import Tenant, global_admin
from tests.support.server import without_cost
from tests.support.world import RawRows

VIEWER = """{ viewer { objectId tenantId isOperator isGlobalAdmin roles
  organization { id legalName } roleAssignments { role } invitations { id } } }"""
ENROLLMENT_STATUSES = """query($id: ID!) { node(id: $id) { ... on Location {
  enrollments { totalCount edges { node { id status program { code } } } } } } }"""


def codes(body: dict[str, Any]) -> list[tuple[str, list[Any]]]:
    return [(error["extensions"]["code"], error["path"]) for error in body.get("errors", [])]


def test_a_stranger_sees_itself_without_organization_or_roles(api: InProcessApi, entra: RunningEntra) -> None:
    tenant = Tenant()
    stranger = global_admin(entra, tenant)
    body = api.graphql(VIEWER, token=stranger.token)
    assert without_cost(body) == {
        "data": {
            "viewer": {
                "objectId": stranger.object_id,
                "tenantId": tenant.id,
                "isOperator": False,
                "isGlobalAdmin": True,
                "roles": [],
                "organization": None,
                "roleAssignments": [],
                "invitations": [],
            }
        }
    }


def test_a_global_admin_sees_its_organization_and_role(api: InProcessApi, seeded: Seeded) -> None:
    viewer = api.graphql(VIEWER, token=seeded.global_admin.token)["data"]["viewer"]
    assert viewer["organization"] == {"id": seeded.organization_id, "legalName": "Contoso Partners Ltd"}
    assert (viewer["isGlobalAdmin"], viewer["roles"]) == (True, ["GLOBAL_ADMIN"])


def test_an_operator_is_told_so_and_belongs_to_no_organization(api: InProcessApi, seeded: Seeded) -> None:
    viewer = api.graphql(VIEWER, token=seeded.operator.token)["data"]["viewer"]
    assert (viewer["isOperator"], viewer["organization"]) == (True, None)


def test_incentives_users_see_their_own_assignments(api: InProcessApi, seeded: Seeded) -> None:
    query = (
        "{ viewer { roleAssignments { role locations { name } programs { code } user { displayName } } } }"
    )
    body = api.graphql(query, token=seeded.incentives_user.token)
    assert body["data"]["viewer"]["roleAssignments"] == [
        {
            "role": "INCENTIVES_USER",
            "locations": [{"name": "Lisbon"}],
            "programs": None,
            "user": {"displayName": "Ugo User"},
        }
    ]


def test_organizations_are_forbidden_to_partners_and_listed_for_operators(
    api: InProcessApi, seeded: Seeded
) -> None:
    query = """{ currentFiscalYear
      organizations(first: 1) { totalCount edges { node { id } } pageInfo { hasNextPage } } }"""
    refused = api.graphql(query, token=seeded.global_admin.token)
    listed = api.graphql(query, token=seeded.operator.token)
    assert refused["data"] == {"currentFiscalYear": 2027, "organizations": None}
    assert codes(refused) == [("FORBIDDEN", ["organizations"])]
    assert listed["data"]["organizations"] == {
        "totalCount": 2,
        "edges": [{"node": {"id": seeded.organization_id}}],
        "pageInfo": {"hasNextPage": True},
    }


def test_node_reveals_own_objects_and_never_another_organizations(api: InProcessApi, seeded: Seeded) -> None:
    query = "query($id: ID!) { node(id: $id) { id __typename } }"
    own = api.graphql(query, {"id": seeded.lisbon_id}, token=seeded.plain_member.token)
    other = api.graphql(query, {"id": seeded.other_location_id}, token=seeded.plain_member.token)
    malformed = api.graphql(query, {"id": "not an id!"}, token=seeded.plain_member.token)
    missing = api.graphql(query, {"id": to_global_id("Location", 999_999)}, token=seeded.global_admin.token)
    assert without_cost(own) == {"data": {"node": {"id": seeded.lisbon_id, "__typename": "Location"}}}
    assert [without_cost(b) for b in (other, malformed, missing)] == [{"data": {"node": None}}] * 3


def test_nodes_answers_each_id_like_node_in_order(api: InProcessApi, seeded: Seeded) -> None:
    ids = [seeded.organization_id, seeded.other_organization_id, "garbage", seeded.lisbon_growth_id]
    body = api.graphql(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids}, token=seeded.incentives_user.token
    )
    assert without_cost(body) == {
        "data": {"nodes": [{"id": seeded.organization_id}, None, None, {"id": seeded.lisbon_growth_id}]}
    }


def test_nodes_refuses_more_than_100_ids(api: InProcessApi, seeded: Seeded) -> None:
    ids = [seeded.lisbon_id] * 101
    body = api.graphql(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids}, token=seeded.operator.token
    )
    assert codes(body) == [("BAD_USER_INPUT", ["nodes"])]


def test_locations_page_forward_with_cursors_and_a_total(
    api: InProcessApi, world: ApiWorld, seeded: Seeded
) -> None:
    query = """query($id: ID!, $after: String) { node(id: $id) { ... on Organization {
      locations(first: 2, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { cursor node { name } } }
    } } }"""
    for name in ("Braga", "Faro", "Evora"):
        world.run(world.builder.location(seeded.contoso, name))
    names: list[str] = []
    after: str | None = None
    pages = 0
    while True:
        page = api.graphql(
            query, {"id": seeded.organization_id, "after": after}, token=seeded.plain_member.token
        )
        locations = page["data"]["node"]["locations"]
        assert locations["totalCount"] == 5
        names += [edge["node"]["name"] for edge in locations["edges"]]
        pages += 1
        if not locations["pageInfo"]["hasNextPage"]:
            break
        after = locations["pageInfo"]["endCursor"]
        assert after == locations["edges"][-1]["cursor"]
    assert (pages, names) == (3, ["Lisbon", "Porto", "Braga", "Faro", "Evora"])


def test_locations_page_backward_with_last_and_before(
    api: InProcessApi, world: ApiWorld, seeded: Seeded
) -> None:
    query = """query($id: ID!, $before: String) { node(id: $id) { ... on Organization {
      locations(last: 2, before: $before) {
        totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { cursor node { name } } }
    } } }"""
    for name in ("Braga", "Faro", "Evora"):
        world.run(world.builder.location(seeded.contoso, name))
    pages: list[list[str]] = []
    before: str | None = None
    while True:
        page = api.graphql(
            query, {"id": seeded.organization_id, "before": before}, token=seeded.plain_member.token
        )
        locations = page["data"]["node"]["locations"]
        info, edges = locations["pageInfo"], locations["edges"]
        assert locations["totalCount"] == 5
        assert (info["startCursor"], info["endCursor"]) == (edges[0]["cursor"], edges[-1]["cursor"])
        assert info["hasNextPage"] is False  # not known when paging backward (the field says so)
        pages.append([edge["node"]["name"] for edge in edges])
        if not info["hasPreviousPage"]:
            break
        before = info["startCursor"]
    assert pages == [["Faro", "Evora"], ["Porto", "Braga"], ["Lisbon"]]


def test_an_empty_page_has_no_cursors(api: InProcessApi, seeded: Seeded) -> None:
    query = """query($id: ID!, $cursor: String) { node(id: $id) { ... on Organization {
      forward: locations(first: 5, after: $cursor) { ...Ends }
      backward: locations(last: 5, before: $cursor) { ...Ends } } } }
      fragment Ends on LocationConnection {
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor } }"""
    token = seeded.plain_member.token
    whole = api.graphql(query, {"id": seeded.organization_id}, token=token)["data"]["node"]["forward"]
    cursor = whole["edges"][0]["cursor"]  # the first location

    body = api.graphql(query, {"id": seeded.organization_id, "cursor": cursor}, token=token)

    empty = {
        "pageInfo": {"hasNextPage": False, "hasPreviousPage": False, "startCursor": None, "endCursor": None},
        "edges": [],
    }
    assert body["data"]["node"]["backward"] == empty  # nothing precedes the first location
    forward = body["data"]["node"]["forward"]
    assert forward["pageInfo"]["hasPreviousPage"] is False  # not known when paging forward
    assert forward["edges"] == whole["edges"][1:]
    assert forward["pageInfo"]["startCursor"] == forward["edges"][0]["cursor"]


def test_backward_paging_arguments_are_checked(api: InProcessApi, seeded: Seeded) -> None:
    for arguments, message in [
        ("last: 0", "`last` must be between 1 and 100."),
        ("last: 101", "`last` must be between 1 and 100."),
        ("first: 2, last: 2", "Give `first` or `last`, not both."),
        ('before: "bm90LWEtY3Vyc29y"', "`before` is not a cursor of this list."),
        ('last: 2, after: "bm90LWEtY3Vyc29y"', "`after` is not a cursor of this list."),
    ]:
        body = api.graphql(f"{{ programs({arguments}) {{ totalCount }} }}", token=seeded.plain_member.token)
        assert codes(body) == [("BAD_USER_INPUT", ["programs"])], arguments
        assert body["errors"][0]["message"] == message, arguments


def test_last_pages_backward_when_first_is_left_to_its_default(api: InProcessApi, seeded: Seeded) -> None:
    """`first` defaults to 20 (the contract's), so only a `first` the request gives conflicts with `last`."""
    query = """query($first: Int, $last: Int) { programs(first: $first, last: $last) {
      pageInfo { hasPreviousPage } edges { node { code } } } }"""
    token = seeded.plain_member.token
    every = api.graphql("{ programs(first: 100) { edges { node { code } } } }", token=token)
    codes_in_order = [edge["node"]["code"] for edge in every["data"]["programs"]["edges"]]
    assert len(codes_in_order) >= 2

    for variables in ({"last": 1}, {"last": 1, "first": None}):
        body = api.graphql(query, variables, token=token)
        assert body["data"]["programs"] == {
            "pageInfo": {"hasPreviousPage": True},
            "edges": [{"node": {"code": codes_in_order[-1]}}],
        }, variables
    for document, variables in [
        (query, {"last": 1, "first": 20}),
        ("{ programs(first: 20, last: 1) { totalCount } }", {}),
    ]:
        body = api.graphql(document, variables, token=token)
        assert codes(body) == [("BAD_USER_INPUT", ["programs"])], document


def test_paging_arguments_out_of_range_are_bad_user_input(api: InProcessApi, seeded: Seeded) -> None:
    for arguments in ("first: 0", "first: 101", 'after: "bm90LWEtY3Vyc29y"'):
        body = api.graphql(f"{{ programs({arguments}) {{ totalCount }} }}", token=seeded.plain_member.token)
        assert codes(body) == [("BAD_USER_INPUT", ["programs"])], arguments


def test_an_error_that_nulls_one_item_leaves_loads_it_shared_with_others_intact(
    api: InProcessApi, seeded: Seeded
) -> None:
    # The bad page nulls the `nodes` item; graphql-core then cancels that item's pending fields,
    # among them its wait for a program that `node` waits for too. Found by the generated reads.
    query = """query($id: ID!) { node(id: $id) { ... on Enrollment { program { code } } }
      nodes(ids: [$id]) { ... on Enrollment { program { code }
        location { enrollments(first: 0) { totalCount } } } } }"""

    body = api.graphql(query, {"id": seeded.lisbon_growth_id}, token=seeded.global_admin.token)

    assert body["data"] == {"node": {"program": {"code": "GROWTH"}}, "nodes": [None]}
    assert codes(body) == [("BAD_USER_INPUT", ["nodes", 0, "location", "enrollments"])]


def _statuses(api: InProcessApi, location_id: str, token: str) -> dict[str, str]:
    body = api.graphql(ENROLLMENT_STATUSES, {"id": location_id}, token=token)
    connection = body["data"]["node"]["enrollments"]
    assert connection["totalCount"] == len(connection["edges"])
    return {
        edge["node"]["program"]["code"][:1] + edge["node"]["id"]: edge["node"]["status"]
        for edge in connection["edges"]
    }


def test_incentives_admin_sees_the_real_status_and_others_see_enrolling(
    api: InProcessApi, seeded: Seeded
) -> None:
    as_admin = _statuses(api, seeded.lisbon_id, seeded.incentives_admin.token)
    as_user = _statuses(api, seeded.lisbon_id, seeded.incentives_user.token)
    as_global_admin = _statuses(api, seeded.porto_id, seeded.global_admin.token)
    as_operator = _statuses(api, seeded.porto_id, seeded.operator.token)
    assert sorted(as_admin.values()) == ["ACTION_REQUIRED", "DISCONTINUED"]
    assert sorted(as_user.values()) == ["DISCONTINUED", "ENROLLING"]
    assert list(as_global_admin.values()) == ["ENROLLING"]
    assert list(as_operator.values()) == ["VALIDATING_ENROLLMENT"]


def test_enrollments_outside_an_assignment_are_absent_from_lists_and_null_from_node(
    api: InProcessApi, seeded: Seeded
) -> None:
    in_porto = _statuses(api, seeded.porto_id, seeded.incentives_user.token)
    node = api.graphql(
        "query($id: ID!) { node(id: $id) { id } }",
        {"id": seeded.porto_growth_id},
        token=seeded.incentives_user.token,
    )
    member = _statuses(api, seeded.lisbon_id, seeded.plain_member.token)
    assert (in_porto, node["data"]["node"], member) == ({}, None, {})


def test_a_discontinued_program_shows_its_enrollments_as_discontinued(
    api: InProcessApi, seeded: Seeded
) -> None:
    query = "query($id: ID!) { node(id: $id) { ... on Enrollment { status program { status } } } }"
    body = api.graphql(query, {"id": seeded.lisbon_legacy_id}, token=seeded.incentives_admin.token)
    assert without_cost(body) == {
        "data": {"node": {"status": "DISCONTINUED", "program": {"status": "DISCONTINUED"}}}
    }


PAYOUT = """query($org: ID!, $loc: ID!) {
  org: node(id: $org) { ... on Organization { paymentProfiles { name bankAccountLast4 } } }
  loc: node(id: $loc) { ... on Location { name taxProfile { taxId } } } }"""


def test_bank_details_and_tax_profile_are_forbidden_to_an_incentives_user(
    api: InProcessApi, seeded: Seeded
) -> None:
    variables = {"org": seeded.organization_id, "loc": seeded.lisbon_id}
    body = api.graphql(PAYOUT, variables, token=seeded.incentives_user.token)
    assert body["data"] == {
        "org": {"paymentProfiles": [{"name": "Main account", "bankAccountLast4": None}]},
        "loc": {"name": "Lisbon", "taxProfile": None},
    }
    assert sorted(codes(body)) == [
        ("FORBIDDEN", ["loc", "taxProfile"]),
        ("FORBIDDEN", ["org", "paymentProfiles", 0, "bankAccountLast4"]),
    ]


def test_an_incentives_admin_reads_bank_details_and_the_newest_tax_profile(
    api: InProcessApi, seeded: Seeded
) -> None:
    variables = {"org": seeded.organization_id, "loc": seeded.lisbon_id}
    body = api.graphql(PAYOUT, variables, token=seeded.incentives_admin.token)
    assert without_cost(body) == {
        "data": {
            "org": {"paymentProfiles": [{"name": "Main account", "bankAccountLast4": "9876"}]},
            "loc": {"name": "Lisbon", "taxProfile": {"taxId": "PT-NEW"}},
        }
    }


def test_role_assignments_and_audit_log_are_null_and_forbidden_to_incentives_roles(
    api: InProcessApi, seeded: Seeded
) -> None:
    query = """query($id: ID!) { node(id: $id) { ... on Organization { legalName
      roleAssignments { totalCount } auditLog { totalCount } } } }"""
    refused = api.graphql(query, {"id": seeded.organization_id}, token=seeded.incentives_admin.token)
    allowed = api.graphql(query, {"id": seeded.organization_id}, token=seeded.global_admin.token)
    assert refused["data"]["node"] == {
        "legalName": "Contoso Partners Ltd",
        "roleAssignments": None,
        "auditLog": None,
    }
    assert sorted(codes(refused)) == [
        ("FORBIDDEN", ["node", "auditLog"]),
        ("FORBIDDEN", ["node", "roleAssignments"]),
    ]
    assert allowed["data"]["node"]["roleAssignments"] == {"totalCount": 2}


def test_eligibility_evaluates_criteria_and_an_unknown_program_is_not_found(
    api: InProcessApi, seeded: Seeded
) -> None:
    query = """query($loc: ID!, $program: ID!) { node(id: $loc) { ... on Location {
      eligibility(programId: $program) { eligible criteria { kind met } } } } }"""
    growth = api.graphql(
        query, {"loc": seeded.lisbon_id, "program": seeded.growth_id}, token=seeded.plain_member.token
    )
    unknown = api.graphql(
        query, {"loc": seeded.lisbon_id, "program": seeded.lisbon_id}, token=seeded.plain_member.token
    )
    assert growth["data"]["node"]["eligibility"] == {
        "eligible": False,
        "criteria": [{"kind": "PARTNER_PROGRAM_AGREEMENT", "met": False}],
    }
    assert unknown["data"] is None or unknown["data"]["node"] is None
    assert codes(unknown) == [("NOT_FOUND", ["node", "eligibility"])]


def test_home_page_invitations_list_what_the_incentives_admin_may_still_enroll(
    api: InProcessApi, world: ApiWorld, seeded: Seeded
) -> None:
    # Issued to Lisbon (wanted) and Porto (not the admin's location): resellers meet the criterion.
    # Lisbon's Growth invitation is none either (already enrolling), nor last year's.
    fresh = world.run(world.builder.program("FRESH", [CriterionKind.DISTRIBUTOR_AGREEMENT]))
    world.run(world.builder.invite(fresh))
    lisbon = key(seeded.lisbon_id, "Location")

    async def last_year(rows: RawRows) -> None:
        await rows.invitation(lisbon, fresh, fiscal_year=2026, channel=InvitationChannel.EMAIL)

    world.raw(last_year)
    this_year = (
        Invitation.location_id == lisbon,
        Invitation.program_id == fresh,
        Invitation.fiscal_year == 2027,
    )
    (wanted,) = world.run(world.builder.rows(Invitation, *this_year))
    query = "{ viewer { invitations { id fiscalYear program { code } location { name } } } }"
    as_admin = api.graphql(query, token=seeded.incentives_admin.token)
    as_user = api.graphql(query, token=seeded.incentives_user.token)
    assert as_admin["data"]["viewer"]["invitations"] == [
        {
            "id": to_global_id("Invitation", wanted.id),
            "fiscalYear": 2027,
            "program": {"code": "FRESH"},
            "location": {"name": "Lisbon"},
        }
    ]
    assert as_user["data"]["viewer"]["invitations"] == []
    # Rule 17: the Global admin sees every current EMAIL invitation of the organization still open
    # (Lisbon's and Porto's FRESH ones; the Growth ones are being enrolled), and dismisses for
    # themself only: the Incentives admin still sees Lisbon's.
    as_global_admin = api.graphql(query, token=seeded.global_admin.token)["data"]["viewer"]["invitations"]
    fresh_ones = [notice for notice in as_global_admin if notice["program"]["code"] == "FRESH"]
    assert sorted(notice["location"]["name"] for notice in fresh_ones) == ["Lisbon", "Porto"]
    assert {notice["location"]["name"] for notice in as_global_admin} <= {"Lisbon", "Porto"}
    dismiss = (
        "mutation($input: DismissInvitationInput!) "
        "{ dismissInvitation(input: $input) { userErrors { code } } }"
    )
    dismissed = api.graphql(
        dismiss,
        {"input": {"invitationId": to_global_id("Invitation", wanted.id)}},
        token=seeded.global_admin.token,
    )
    assert dismissed["data"]["dismissInvitation"]["userErrors"] == []
    again = api.graphql(query, token=seeded.global_admin.token)["data"]["viewer"]["invitations"]
    assert [n["location"]["name"] for n in again if n["program"]["code"] == "FRESH"] == ["Porto"]
    assert (
        api.graphql(query, token=seeded.incentives_admin.token)["data"]["viewer"]["invitations"]
        == (as_admin["data"]["viewer"]["invitations"])
    )
