"""The API tests' fixtures: a client, the world builder on the API's database, and `seeded`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest

from api.graphql.ids import to_global_id
from domain.access import Role
from domain.vocabulary import AgreementKind, CriterionKind
from tests.api.client import Client
from tests.api.world import ApiWorld, api_world
from tests.support import actors, personas
from tests.support.entra import RunningEntra
from tests.support.in_process import InProcessApi
from tests.support.personas import Persona, Tenant
from tests.support.world import Org, World

TAX_EXPIRES = date(2028, 1, 1)


@pytest.fixture
def client(api: InProcessApi, entra: RunningEntra) -> Client:
    return Client(api, entra)


@pytest.fixture
def world(api: InProcessApi, client: Client) -> Iterator[ApiWorld]:
    with api_world(api.database_url, client) as built:
        yield built


@dataclass(frozen=True)
class Seeded:
    """Contoso: Lisbon and Porto. The incentives admin and user cover Lisbon only.

    Enrollments: Lisbon x Growth ACTION_REQUIRED (its review rejected), Porto x Growth
    VALIDATING_ENROLLMENT, Lisbon x Legacy ENROLLED (Legacy since discontinued). Growth asks for the
    partner program agreement, which Contoso no longer has. Fabrikam is another organization.
    """

    contoso: Org
    global_admin: Persona
    incentives_admin: Persona
    incentives_user: Persona
    plain_member: Persona
    operator: Persona
    organization_id: str
    lisbon_id: str
    porto_id: str
    growth_id: str
    lisbon_growth_id: str
    porto_growth_id: str
    lisbon_legacy_id: str
    other_organization_id: str
    other_location_id: str


async def contoso_and_fabrikam(world: World, entra: RunningEntra) -> Seeded:
    contoso = await world.organization(name="Contoso Partners Ltd", country="PT")
    lisbon = await world.location(contoso, "Lisbon", country="PT")
    porto = await world.location(contoso, "Porto", country="PT")
    growth = await world.program("GROWTH", [CriterionKind.PARTNER_PROGRAM_AGREEMENT])
    legacy = await world.program("LEGACY")
    tenant = Tenant(contoso.tenant_id)
    admin = personas.user(entra, tenant, name="Ines Admin")
    user = personas.user(entra, tenant, name="Ugo User")
    for person, role, name in (
        (admin, Role.INCENTIVES_ADMIN, "Ines Admin"),
        (user, Role.INCENTIVES_USER, "Ugo User"),
    ):
        await world.assign(contoso, person.object_id, role, locations=[lisbon], name=name)
    await world.agree(contoso, AgreementKind.PARTNER_PROGRAM)
    await world.invite(growth)
    # Contoso's payout is kept by an Incentives admin of the whole organization.
    payout = actors.incentives_admin(contoso.tenant_id, contoso.id)
    profile = await world.payment_profile(payout, "Main account", account="PT50000201231234567899876")
    for location, tax_id in ((lisbon, "PT-OLD"), (lisbon, "PT-NEW"), (porto, "PT-PORTO")):
        await world.tax_profile(payout, location, TAX_EXPIRES, tax_id=tax_id, country="PT")
    lisbon_growth = await world.enroll(payout, lisbon, growth, profile)
    await world.review(lisbon_growth, approved=False)
    porto_growth = await world.enroll(payout, porto, growth, profile)
    lisbon_legacy = await world.enroll(payout, lisbon, legacy, profile)
    await world.review(lisbon_legacy)
    await world.discontinue(legacy)
    async with world.raw() as rows:  # Growth's pending enrollments stay in progress, to be shown
        await rows.lapse_agreement(contoso.id, AgreementKind.PARTNER_PROGRAM)
    fabrikam = await world.organization(name="Fabrikam")
    far_away = await world.location(fabrikam)
    return Seeded(
        contoso=contoso,
        global_admin=personas.global_admin(entra, tenant),
        incentives_admin=admin,
        incentives_user=user,
        plain_member=personas.user(entra, tenant),
        operator=personas.operator(entra),
        organization_id=to_global_id("Organization", contoso.id),
        lisbon_id=to_global_id("Location", lisbon),
        porto_id=to_global_id("Location", porto),
        growth_id=to_global_id("IncentiveProgram", growth),
        lisbon_growth_id=to_global_id("Enrollment", lisbon_growth),
        porto_growth_id=to_global_id("Enrollment", porto_growth),
        lisbon_legacy_id=to_global_id("Enrollment", lisbon_legacy),
        other_organization_id=to_global_id("Organization", fabrikam.id),
        other_location_id=to_global_id("Location", far_away),
    )


@pytest.fixture
def seeded(world: ApiWorld, entra: RunningEntra) -> Seeded:
    return world.run(contoso_and_fabrikam(world.builder, entra))
