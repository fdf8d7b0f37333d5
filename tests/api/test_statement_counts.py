"""No N+1: a nested read costs the same number of SQL statements for 5 locations as for 20."""

from __future__ import annotations

from api.graphql.ids import to_global_id
from auth.principal import Identity, Principal
from domain.access import Role
from domain.vocabulary import AgreementKind, CriterionKind, PartnerType
from tests.api.world import ApiWorld
from tests.support import personas
from tests.support.entra import RunningEntra
from tests.support.in_process import InProcessApi
from tests.support.personas import Persona, Tenant
from tests.support.world import World

NESTED = """query($id: ID!, $first: Int!) { node(id: $id) { ... on Organization {
  locations(first: $first) { edges { node { name
    enrollments { totalCount edges { node { status program { code criteria } } } } } } } } } }"""

# The same read paged backward: the last locations, the last enrollment of each (of two).
NESTED_BACKWARD = NESTED.replace("$first: Int!", "$last: Int!").replace("first: $first", "last: $last")
NESTED_BACKWARD = NESTED_BACKWARD.replace(
    "enrollments {", "enrollments(last: 1) { pageInfo { hasPreviousPage }"
)

# Authentication: remembered from the caller's first request (0; `auth.authenticate.Callers`), and
# confirmed by their tenant's version read in the first statement below (0; `api.read.versions`).
# Reading, planned (api/read): the organization by id, the locations page, the enrollments page of
# all those locations (with their programs and the locations' current tax expiry, which the shown
# status depends on), their counts, the programs' criteria (5).
EXPECTED_STATEMENTS = 5


async def _organization_with_enrollments(world: World, entra: RunningEntra) -> tuple[str, Persona]:
    """20 locations, each in 2 of 3 programs (ACTION_REQUIRED, ENROLLED or INVITED by program), and
    an Incentives admin of the whole organization.

    Who is invited to what follows from the rules: a distributor agreement is asked of indirect
    providers only, a reseller agreement of direct resellers only, and a location is invited to
    what it is eligible for when it is added (rule 24): the later direct resellers, to the partner
    program and the distributor one, not to the reseller one (the organization has no reseller
    agreement).
    """
    org = await world.organization()
    partner_program, distributor, reseller = [
        await world.program(f"N{n}", [kind]) for n, kind in enumerate(list(CriterionKind)[:3])
    ]
    first_kinds = [PartnerType.DIRECT_RESELLER, PartnerType.INDIRECT_PROVIDER] * 6 + [
        PartnerType.DIRECT_RESELLER
    ]
    first = [await world.location(org, f"First {n}", kind) for n, kind in enumerate(first_kinds)]
    await world.agree(org, AgreementKind.PARTNER_PROGRAM)
    await world.invite(partner_program)  # all of the first: direct resellers and indirect providers
    later = [await world.location(org, f"Later {n}", PartnerType.DIRECT_RESELLER) for n in range(7)]
    await world.invite(distributor)  # the direct resellers (the later ones were invited when added)
    await world.invite(reseller)  # the indirect providers; these stay INVITED
    admin = personas.user(entra, Tenant(org.tenant_id))
    await world.assign(org, admin.object_id, Role.INCENTIVES_ADMIN)
    acting = await world.signed_in(Identity(tenant_id=org.tenant_id, object_id=admin.object_id))
    profile = await world.payment_profile(acting)
    for location, kind in zip(first, first_kinds, strict=True):
        await world.enroll(acting, location, partner_program)  # no profiles: ACTION_REQUIRED
        if kind is PartnerType.DIRECT_RESELLER:
            await _enrolled(world, acting, location, distributor, profile)
    for location in later:
        await _enrolled(world, acting, location, distributor, profile)
    return to_global_id("Organization", org.id), admin


async def _enrolled(world: World, admin: Principal, location: int, program: int, profile: int) -> None:
    await world.tax_profile(admin, location)
    await world.review(await world.enroll(admin, location, program, profile))


def test_nested_locations_enrollments_and_programs_cost_a_fixed_number_of_statements(
    api: InProcessApi, world: ApiWorld, entra: RunningEntra
) -> None:
    organization_id, admin = world.run(_organization_with_enrollments(world.builder, entra))
    # The first request remembers the caller (a users row write); count from the second on.
    api.graphql("{ viewer { objectId } }", token=admin.token)
    counted: dict[int, int] = {}
    for first in (5, 20):
        with api.statements() as log:
            body = api.graphql(NESTED, {"id": organization_id, "first": first}, token=admin.token)
        assert "errors" not in body
        edges = body["data"]["node"]["locations"]["edges"]
        assert len(edges) == first
        assert all(edge["node"]["enrollments"]["totalCount"] == 2 for edge in edges)
        assert {e["node"]["status"] for edge in edges for e in edge["node"]["enrollments"]["edges"]} == {
            "ACTION_REQUIRED",
            "ENROLLED",
            "INVITED",
        }
        counted[first] = len(log)
    assert counted == {5: EXPECTED_STATEMENTS, 20: EXPECTED_STATEMENTS}


def test_the_same_read_paged_backward_costs_the_same_statements(
    api: InProcessApi, world: ApiWorld, entra: RunningEntra
) -> None:
    organization_id, admin = world.run(_organization_with_enrollments(world.builder, entra))
    api.graphql("{ viewer { objectId } }", token=admin.token)
    whole = api.graphql(NESTED, {"id": organization_id, "first": 20}, token=admin.token)
    names = [edge["node"]["name"] for edge in whole["data"]["node"]["locations"]["edges"]]
    counted: dict[int, int] = {}
    for last in (5, 20):
        with api.statements() as log:
            body = api.graphql(NESTED_BACKWARD, {"id": organization_id, "last": last}, token=admin.token)
        assert "errors" not in body
        edges = body["data"]["node"]["locations"]["edges"]
        assert [edge["node"]["name"] for edge in edges] == names[-last:]
        assert all(len(edge["node"]["enrollments"]["edges"]) == 1 for edge in edges)
        assert all(edge["node"]["enrollments"]["pageInfo"]["hasPreviousPage"] for edge in edges)
        counted[last] = len(log)
    assert counted == {5: EXPECTED_STATEMENTS, 20: EXPECTED_STATEMENTS}
