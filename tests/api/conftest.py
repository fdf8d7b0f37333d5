"""A small partner world seeded straight into the API's database, shared by the API tests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from api.graphql.ids import to_global_id
from domain import model
from domain.access import Role
from domain.vocabulary import CriterionKind, EnrollmentStatus, ProgramStatus
from tests.support import personas
from tests.support.entra import RunningEntra
from tests.support.in_process import InProcessApi
from tests.support.personas import Persona, Tenant
from tests.support.seed import seeding
from tests.support.server import CURRENT_FISCAL_YEAR


@dataclass(frozen=True)
class Seeded:
    """Contoso (tenant `tenant`): Lisbon and Porto. The incentives admin and user cover Lisbon only.

    Enrollments: Lisbon x Growth ACTION_REQUIRED, Porto x Growth VALIDATING_ENROLLMENT,
    Lisbon x Legacy ENROLLED (Legacy is discontinued). Fabrikam is another organization.
    """

    tenant: Tenant
    global_admin: Persona
    incentives_admin: Persona
    incentives_user: Persona
    plain_member: Persona
    stranger: Persona
    operator: Persona
    organization_id: str
    lisbon_id: str
    porto_id: str
    growth_id: str
    legacy_id: str
    lisbon_growth_id: str
    porto_growth_id: str
    lisbon_legacy_id: str
    payment_profile_id: str
    other_organization_id: str
    other_location_id: str
    other_enrollment_id: str


def gid(kind: str, row: model.Base) -> str:
    return to_global_id(kind, row.id)  # type: ignore[attr-defined]


@pytest.fixture
async def seeded(api: InProcessApi, entra: RunningEntra) -> Seeded:
    tenant, other_tenant = Tenant(), Tenant()
    admin, user, member = (personas.new_guid() for _ in range(3))
    year = CURRENT_FISCAL_YEAR
    async with seeding(api.database_url) as seed:
        contoso = await seed.organization(tenant.id)
        lisbon = await seed.location(contoso, name="Lisbon")
        porto = await seed.location(contoso, name="Porto")
        growth = await seed.program(criteria=[CriterionKind.PARTNER_PROGRAM_AGREEMENT])
        legacy = await seed.program(status=ProgramStatus.DISCONTINUED)
        profile = await seed.payment_profile(contoso, last4="9876")
        await seed.tax_profile(lisbon, tax_id="PT-OLD")
        await seed.tax_profile(lisbon, tax_id="PT-NEW")
        ia = await seed.user(tenant.id, admin, name="Ines Admin")
        iu = await seed.user(tenant.id, user, name="Ugo User")
        await seed.assign(contoso, ia, Role.INCENTIVES_ADMIN, locations=[lisbon])
        await seed.assign(contoso, iu, Role.INCENTIVES_USER, locations=[lisbon])
        lisbon_growth = await seed.enrollment(
            lisbon, growth, fiscal_year=year, status=EnrollmentStatus.ACTION_REQUIRED, payment_profile=profile
        )
        porto_growth = await seed.enrollment(
            porto, growth, fiscal_year=year, status=EnrollmentStatus.VALIDATING_ENROLLMENT
        )
        lisbon_legacy = await seed.enrollment(
            lisbon, legacy, fiscal_year=year, status=EnrollmentStatus.ENROLLED
        )
        fabrikam = await seed.organization(other_tenant.id, legal_name="Fabrikam")
        far_away = await seed.location(fabrikam)
        far_enrollment = await seed.enrollment(far_away, growth, fiscal_year=year)
    return Seeded(
        tenant=tenant,
        global_admin=personas.global_admin(entra, tenant),
        incentives_admin=personas.user(entra, tenant, object_id=admin, name="Ines Admin"),
        incentives_user=personas.user(entra, tenant, object_id=user, name="Ugo User"),
        plain_member=personas.user(entra, tenant, object_id=member),
        stranger=personas.global_admin(entra, Tenant()),
        operator=personas.operator(entra),
        organization_id=gid("Organization", contoso),
        lisbon_id=gid("Location", lisbon),
        porto_id=gid("Location", porto),
        growth_id=gid("IncentiveProgram", growth),
        legacy_id=gid("IncentiveProgram", legacy),
        lisbon_growth_id=gid("Enrollment", lisbon_growth),
        porto_growth_id=gid("Enrollment", porto_growth),
        lisbon_legacy_id=gid("Enrollment", lisbon_legacy),
        payment_profile_id=gid("PaymentProfile", profile),
        other_organization_id=gid("Organization", fabrikam),
        other_location_id=gid("Location", far_away),
        other_enrollment_id=gid("Enrollment", far_enrollment),
    )
