"""Issue 4 through the API: an expired tax profile makes an ENROLLED enrollment need action, and
a new tax profile sends it back to validation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from api.graphql.ids import to_global_id
from auth.principal import Identity
from domain.access import Role
from domain.vocabulary import EnrollmentStatus
from tests.api.world import ApiWorld
from tests.support import personas
from tests.support.entra import RunningEntra
from tests.support.in_process import InProcessApi
from tests.support.personas import Persona, Tenant
from tests.support.world import World

STATUS = "query($id: ID!) { node(id: $id) { ... on Enrollment { status } } }"
SET_TAX_PROFILE = """mutation($input: SetTaxProfileInput!) { setTaxProfile(input: $input) {
  taxProfile { expiresOn } userErrors { code message } } }"""
OPERATOR_LIST = """query($status: EnrollmentStatus) { enrollments(status: $status, first: 100) {
  totalCount edges { node { id status } } } }"""


@dataclass(frozen=True)
class Lapsed:
    """Lisbon (tax profile expired on 2026-11-01) and Porto (valid), each ENROLLED in one program."""

    incentives_admin: Persona
    incentives_user: Persona
    operator: Persona
    lisbon_id: str
    lisbon_enrollment_id: str
    porto_enrollment_id: str


async def _lapsed(world: World, entra: RunningEntra) -> Lapsed:
    org = await world.organization()
    lisbon = await world.location(org, "Lisbon")
    porto = await world.location(org, "Porto")
    program = await world.program()
    tenant = Tenant(org.tenant_id)
    admin, user = personas.user(entra, tenant), personas.user(entra, tenant)
    await world.assign(org, admin.object_id, Role.INCENTIVES_ADMIN)
    await world.assign(org, user.object_id, Role.INCENTIVES_USER)
    acting = await world.signed_in(Identity(tenant_id=tenant.id, object_id=admin.object_id))
    # Set in October, when Lisbon's (it expired on November 1) could still be set.
    today, world.clock.at = world.clock.at, datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
    await world.tax_profile(acting, lisbon, date(2026, 11, 1))
    await world.tax_profile(acting, porto, date(2028, 1, 1))
    world.clock.at = today
    # ENROLLED without a payment profile: a state no service leaves an enrollment in.
    async with world.raw() as rows:
        in_lisbon = await rows.enrollment(lisbon, program, status=EnrollmentStatus.ENROLLED)
        in_porto = await rows.enrollment(porto, program, status=EnrollmentStatus.ENROLLED)
    return Lapsed(
        incentives_admin=admin,
        incentives_user=user,
        operator=personas.operator(entra),
        lisbon_id=to_global_id("Location", lisbon),
        lisbon_enrollment_id=to_global_id("Enrollment", in_lisbon.id),
        porto_enrollment_id=to_global_id("Enrollment", in_porto.id),
    )


@pytest.fixture
def lapsed(world: ApiWorld, entra: RunningEntra) -> Lapsed:
    return world.run(_lapsed(world.builder, entra))


def status(api: InProcessApi, caller: Persona, enrollment_id: str) -> str:
    body = api.graphql(STATUS, {"id": enrollment_id}, token=caller.token)
    assert "errors" not in body, body
    shown: str = body["data"]["node"]["status"]
    return shown


def operator_list(api: InProcessApi, lapsed: Lapsed, wanted: str) -> set[str]:
    body = api.graphql(OPERATOR_LIST, {"status": wanted}, token=lapsed.operator.token)
    assert "errors" not in body, body
    connection = body["data"]["enrollments"]
    assert connection["totalCount"] == len(connection["edges"])
    assert {edge["node"]["status"] for edge in connection["edges"]} <= {wanted}
    return {edge["node"]["id"] for edge in connection["edges"]}


def test_an_incentives_admin_sees_action_required_once_the_tax_profile_expired(
    api: InProcessApi, lapsed: Lapsed
) -> None:
    assert status(api, lapsed.incentives_admin, lapsed.lisbon_enrollment_id) == "ACTION_REQUIRED"
    assert status(api, lapsed.incentives_admin, lapsed.porto_enrollment_id) == "ENROLLED"


def test_the_admin_is_told_what_to_do_about_it(api: InProcessApi, lapsed: Lapsed) -> None:
    query = "query($id: ID!) { node(id: $id) { ... on Enrollment { actionRequiredReason } } }"

    body = api.graphql(query, {"id": lapsed.lisbon_enrollment_id}, token=lapsed.incentives_admin.token)

    assert body["data"]["node"] == {
        "actionRequiredReason": "Needs a valid tax profile for the location and a payment profile."
    }


def test_an_incentives_user_sees_enrolling_for_it(api: InProcessApi, lapsed: Lapsed) -> None:
    assert status(api, lapsed.incentives_user, lapsed.lisbon_enrollment_id) == "ENROLLING"
    assert status(api, lapsed.incentives_user, lapsed.porto_enrollment_id) == "ENROLLED"


def test_the_operator_lists_it_under_action_required_and_not_under_enrolled(
    api: InProcessApi, lapsed: Lapsed
) -> None:
    assert operator_list(api, lapsed, "ACTION_REQUIRED") == {lapsed.lisbon_enrollment_id}
    assert operator_list(api, lapsed, "ENROLLED") == {lapsed.porto_enrollment_id}


def test_a_new_tax_profile_sends_it_back_to_validation(api: InProcessApi, lapsed: Lapsed) -> None:
    new_profile = {
        "locationId": lapsed.lisbon_id,
        "taxId": "PT999999990",
        "country": "PT",
        "expiresOn": "2028-06-30",
    }

    body = api.graphql(SET_TAX_PROFILE, {"input": new_profile}, token=lapsed.incentives_admin.token)

    assert body["data"]["setTaxProfile"] == {"taxProfile": {"expiresOn": "2028-06-30"}, "userErrors": []}
    assert status(api, lapsed.incentives_admin, lapsed.lisbon_enrollment_id) == "VALIDATING_ENROLLMENT"
    assert status(api, lapsed.incentives_user, lapsed.lisbon_enrollment_id) == "ENROLLING"
    assert status(api, lapsed.incentives_admin, lapsed.porto_enrollment_id) == "ENROLLED"
    assert operator_list(api, lapsed, "ACTION_REQUIRED") == set()
    assert operator_list(api, lapsed, "VALIDATING_ENROLLMENT") == {lapsed.lisbon_enrollment_id}
