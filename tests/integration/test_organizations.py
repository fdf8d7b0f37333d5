from __future__ import annotations

import asyncio

import pytest

from auth.principal import Principal
from domain.errors import Conflict, Forbidden, Invalid, NotFound
from domain.model import Agreement, Location, Organization, OrganizationTenant, User
from domain.services import organizations
from domain.vocabulary import AgreementKind, PartnerType
from tests.support import actors
from tests.support.world import World


async def register(
    world: World,
    actor: Principal,
    *,
    legal_name: str = "Contoso Ltd",
    country: str = "US",
    global_partner_id: str | None = None,
) -> Organization:
    return await organizations.register_organization(
        world.uow(),
        actor,
        legal_name=legal_name,
        country=country,
        global_partner_id=global_partner_id,
        migration_completed=True,
    )


async def test_global_admin_registers_an_organization_for_their_tenant(world: World) -> None:
    ga = actors.global_admin(actors.new_guid(), email="ga@contoso.example")
    org = await register(world, ga, country="us")
    assert org.global_partner_id.isdigit()
    assert org.country == "US"
    [tenant] = await world.rows(OrganizationTenant)
    assert (tenant.tenant_id, tenant.organization_id) == (ga.tenant_id, org.id)
    [user] = await world.rows(User)
    assert (user.object_id, user.email, user.seen_as_global_admin) == (
        ga.object_id,
        "ga@contoso.example",
        True,
    )
    assert await world.audit_actions(org.id) == ["registerOrganization"]


async def test_user_who_is_not_global_admin_cannot_register(world: World) -> None:
    with pytest.raises(Forbidden):
        await register(world, actors.stranger())
    assert await world.count(Organization) == 0


async def test_second_registration_from_the_same_tenant_is_a_conflict(world: World) -> None:
    tenant_id = actors.new_guid()
    await register(world, actors.global_admin(tenant_id))
    with pytest.raises(Conflict):
        await register(world, actors.global_admin(tenant_id), legal_name="Contoso Again")
    assert await world.count(Organization) == 1


async def test_two_racing_registrations_from_one_tenant_make_one_organization(world: World) -> None:
    tenant_id = actors.new_guid()
    outcomes = await asyncio.gather(
        register(world, actors.global_admin(tenant_id)),
        register(world, actors.global_admin(tenant_id), legal_name="Contoso Twin"),
        return_exceptions=True,
    )
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["Conflict", "Organization"]
    assert await world.count(Organization) == 1
    assert await world.count(OrganizationTenant) == 1


async def test_a_chosen_global_partner_id_must_be_5_to_16_digits_and_unique(world: World) -> None:
    first = await register(world, actors.global_admin(actors.new_guid()), global_partner_id="4455667")
    assert first.global_partner_id == "4455667"
    with pytest.raises(Conflict) as taken:
        await register(world, actors.global_admin(actors.new_guid()), global_partner_id="4455667")
    assert taken.value.problems[0].field == ("globalPartnerId",)
    with pytest.raises(Invalid):
        await register(world, actors.global_admin(actors.new_guid()), global_partner_id="12a4")
    assert await world.count(Organization) == 1


async def test_registration_reports_every_invalid_field(world: World) -> None:
    with pytest.raises(Invalid) as raised:
        await register(world, actors.global_admin(actors.new_guid()), legal_name=" ", country="XX")
    assert {p.field for p in raised.value.problems} == {("legalName",), ("country",)}


async def test_global_and_account_admins_add_locations_with_unique_numeric_partner_ids(world: World) -> None:
    org = await world.organization()
    account_admin = actors.account_admin(org.tenant_id, org.id)
    first = await organizations.add_location(
        world.uow(), org.global_admin, name="Seattle", country="US", partner_type=PartnerType.DIRECT_RESELLER
    )
    second = await organizations.add_location(
        world.uow(), account_admin, name="Paris", country="fr", partner_type=PartnerType.INDIRECT_PROVIDER
    )
    organization = (await world.rows(Organization))[0]
    ids = {first.partner_id, second.partner_id, organization.global_partner_id}
    assert len(ids) == 3
    assert all(partner_id.isdigit() for partner_id in ids)
    assert second.country == "FR"
    assert await world.audit_actions(org.id) == ["registerOrganization", "addLocation", "addLocation"]


@pytest.mark.parametrize("who", ["incentives_admin", "member", "stranger", "operator"])
async def test_only_global_or_account_admins_add_locations(world: World, who: str) -> None:
    org = await world.organization()
    actor = {
        "incentives_admin": actors.incentives_admin(org.tenant_id, org.id),
        "member": actors.member(org.tenant_id, org.id),
        "stranger": actors.stranger(),
        "operator": world.operator,
    }[who]
    with pytest.raises(Forbidden):
        await organizations.add_location(
            world.uow(), actor, name="Seattle", country="US", partner_type=PartnerType.DIRECT_RESELLER
        )
    assert await world.count(Location) == 0


async def test_location_names_are_unique_within_an_organization(world: World) -> None:
    org = await world.organization()
    other = await world.organization(name="Fabrikam")
    await world.location(org, "Seattle")
    await world.location(other, "Seattle")
    with pytest.raises(Conflict):
        await world.location(org, "Seattle")
    assert await world.count(Location) == 2
    assert await world.audit_actions(org.id) == ["registerOrganization", "addLocation"]


async def test_complete_migration_is_for_the_organizations_own_admins(world: World) -> None:
    """Rule 19: Global, Account and Incentives admins of the organization; no one else."""
    org = await world.organization(migration_completed=False)
    other = await world.organization(name="Fabrikam")
    with pytest.raises(NotFound):
        await organizations.complete_migration(world.uow(), other.global_admin, organization_id=org.id)
    with pytest.raises(Forbidden):
        await organizations.complete_migration(
            world.uow(), actors.incentives_user(org.tenant_id, org.id), organization_id=org.id
        )
    assert not (await world.rows(Organization, Organization.id == org.id))[0].migration_completed
    done = await organizations.complete_migration(
        world.uow(), actors.account_admin(org.tenant_id, org.id), organization_id=org.id
    )
    assert done.migration_completed
    assert (await world.audit_actions(org.id))[-1] == "completeMigration"


async def test_an_incentives_admin_completes_the_migration(world: World) -> None:
    """Seed 002: "the Incentives admins perform the migration"."""
    org = await world.organization(migration_completed=False)
    admin = actors.incentives_admin(org.tenant_id, org.id)
    done = await organizations.complete_migration(world.uow(), admin, organization_id=org.id)
    assert done.migration_completed
    assert (await world.audit_actions(org.id))[-1] == "completeMigration"


async def test_operator_records_agreements_and_designation_with_audit(world: World) -> None:
    org = await world.organization()
    await organizations.record_agreement(
        world.uow(), world.operator, organization_id=org.id, kind=AgreementKind.RESELLER, active=True
    )
    await organizations.record_agreement(
        world.uow(), world.operator, organization_id=org.id, kind=AgreementKind.RESELLER, active=False
    )
    designated = await organizations.set_solutions_partner_designation(
        world.uow(), world.operator, organization_id=org.id, designated=True
    )
    [agreement] = await world.rows(Agreement)
    assert (agreement.kind, agreement.active) == (AgreementKind.RESELLER, False)
    assert designated.solutions_partner_designated
    assert (await world.audit_actions(org.id))[1:] == [
        "recordAgreement",
        "recordAgreement",
        "setSolutionsPartnerDesignation",
    ]


async def test_partners_cannot_record_agreements_or_designation(world: World) -> None:
    org = await world.organization()
    with pytest.raises(Forbidden):
        await organizations.record_agreement(
            world.uow(), org.global_admin, organization_id=org.id, kind=AgreementKind.RESELLER, active=True
        )
    with pytest.raises(Forbidden):
        await organizations.set_solutions_partner_designation(
            world.uow(), org.global_admin, organization_id=org.id, designated=True
        )
    assert await world.count(Agreement) == 0


async def test_agreement_for_an_unknown_organization_is_not_found(world: World) -> None:
    with pytest.raises(NotFound):
        await organizations.record_agreement(
            world.uow(), world.operator, organization_id=999, kind=AgreementKind.RESELLER, active=True
        )
    with pytest.raises(NotFound):
        await organizations.set_solutions_partner_designation(
            world.uow(), world.operator, organization_id=999, designated=True
        )
