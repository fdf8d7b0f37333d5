"""No N+1: a nested read costs the same number of SQL statements for 5 locations as for 20."""

from __future__ import annotations

from api.graphql.ids import to_global_id
from domain.access import Role
from domain.vocabulary import CriterionKind, EnrollmentStatus
from tests.support import personas
from tests.support.entra import RunningEntra
from tests.support.in_process import InProcessApi
from tests.support.personas import Tenant
from tests.support.seed import seeding
from tests.support.server import CURRENT_FISCAL_YEAR

NESTED = """query($id: ID!, $first: Int!) { node(id: $id) { ... on Organization {
  locations(first: $first) { edges { node { name
    enrollments { totalCount edges { node { status program { code criteria } } } } } } } } } }"""

# Authentication: the tenant's organization, the user row, the assignments (3). Reading: the
# organization by id, the locations page, the enrollments page of all those locations, their
# counts, the programs by id, their criteria, the current tax profiles of the locations with an
# ENROLLED enrollment (whose shown status depends on it, issue 4) (7). Locations by id come
# primed from the page.
EXPECTED_STATEMENTS = 10


async def _organization_with_enrollments(api: InProcessApi, tenant: Tenant, admin_object_id: str) -> str:
    """20 locations, each enrolled in 2 of 3 programs (statuses varied), and an incentives admin of all."""
    async with seeding(api.database_url) as seed:
        org = await seed.organization(tenant.id)
        programs = [await seed.program(criteria=[kind]) for kind in list(CriterionKind)[:3]]
        statuses = [EnrollmentStatus.ACTION_REQUIRED, EnrollmentStatus.ENROLLED, EnrollmentStatus.INVITED]
        for index, location in enumerate(await seed.locations(org, 20)):
            for offset in range(2):
                which = (index + offset) % 3
                await seed.enrollment(
                    location, programs[which], fiscal_year=CURRENT_FISCAL_YEAR, status=statuses[which]
                )
        admin = await seed.user(tenant.id, admin_object_id)
        await seed.assign(org, admin, Role.INCENTIVES_ADMIN)
    return to_global_id("Organization", org.id)


async def test_nested_locations_enrollments_and_programs_cost_a_fixed_number_of_statements(
    api: InProcessApi, entra: RunningEntra
) -> None:
    tenant = Tenant()
    admin = personas.user(entra, tenant)
    organization_id = await _organization_with_enrollments(api, tenant, admin.object_id)
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
