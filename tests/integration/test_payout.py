from __future__ import annotations

from datetime import date

import pytest

from auth.principal import Principal
from domain.errors import Conflict, Forbidden, Invalid, NotFound
from domain.model import PaymentProfile, TaxProfile
from domain.services import payout
from tests.support import actors
from tests.support.world import World


async def create(
    world: World, actor: Principal, name: str = "Main", number: str = "DE89 3704 0044 0532 0130 00"
) -> PaymentProfile:
    return await payout.create_payment_profile(
        world.uow(), actor, name=name, currency="eur", bank_account_number=number
    )


async def test_incentives_admin_creates_a_payment_profile_keeping_only_the_last_four(world: World) -> None:
    org = await world.organization()
    location_id = await world.location(org)
    profile = await create(world, actors.incentives_admin(org.tenant_id, org.id, locations=[location_id]))
    assert (profile.currency, profile.bank_account_last4) == ("EUR", "3000")
    assert (await world.audit_actions(org.id))[-1] == "createPaymentProfile"


@pytest.mark.parametrize("who", ["global_admin", "account_admin", "incentives_user", "stranger", "operator"])
async def test_only_incentives_admins_create_payment_profiles(world: World, who: str) -> None:
    org = await world.organization()
    actor = {
        "global_admin": org.global_admin,
        "account_admin": actors.account_admin(org.tenant_id, org.id),
        "incentives_user": actors.incentives_user(org.tenant_id, org.id),
        "stranger": actors.stranger(),
        "operator": world.operator,
    }[who]
    with pytest.raises(Forbidden):
        await create(world, actor)
    assert await world.count(PaymentProfile) == 0


async def test_payment_profile_names_are_unique_and_inputs_checked(world: World) -> None:
    org = await world.organization()
    admin = actors.incentives_admin(org.tenant_id, org.id)
    await create(world, admin)
    with pytest.raises(Conflict):
        await create(world, admin)
    with pytest.raises(Invalid) as raised:
        await payout.create_payment_profile(
            world.uow(), admin, name="", currency="XYZ", bank_account_number="1"
        )
    assert {p.field for p in raised.value.problems} == {("name",), ("currency",), ("bankAccountNumber",)}
    assert await world.count(PaymentProfile) == 1


async def set_tax(
    world: World, actor: Principal, location_id: int, expires_on: date = date(2028, 1, 1)
) -> TaxProfile:
    return await payout.set_tax_profile(
        world.uow(), actor, location_id=location_id, tax_id="FR123", country="fr", expires_on=expires_on
    )


async def test_incentives_admin_of_the_location_sets_tax_profiles_and_keeps_old_ones(world: World) -> None:
    org = await world.organization()
    location_id = await world.location(org)
    admin = actors.incentives_admin(org.tenant_id, org.id, locations=[location_id])
    first = await set_tax(world, admin, location_id)
    second = await set_tax(world, admin, location_id, date(2029, 1, 1))
    assert second.id > first.id
    assert second.country == "FR"
    assert await world.count(TaxProfile) == 2
    assert (await world.audit_actions(org.id))[-2:] == ["setTaxProfile", "setTaxProfile"]


async def test_tax_profile_of_a_location_not_administered_is_forbidden(world: World) -> None:
    org = await world.organization()
    mine, theirs = await world.location(org, "A"), await world.location(org, "B")
    admin = actors.incentives_admin(org.tenant_id, org.id, locations=[mine])
    for actor in (admin, org.global_admin, actors.incentives_user(org.tenant_id, org.id)):
        with pytest.raises(Forbidden):
            await set_tax(world, actor, theirs)
    assert await world.count(TaxProfile) == 0


async def test_tax_profile_of_another_organizations_location_is_not_found(world: World) -> None:
    org = await world.organization()
    other = await world.organization(name="Fabrikam")
    foreign = await world.location(other)
    with pytest.raises(NotFound):
        await set_tax(world, actors.incentives_admin(org.tenant_id, org.id), foreign)


async def test_a_tax_profile_must_expire_after_today(world: World) -> None:
    org = await world.organization()
    location_id = await world.location(org)
    admin = actors.incentives_admin(org.tenant_id, org.id)
    with pytest.raises(Invalid) as raised:
        await set_tax(world, admin, location_id, world.clock.today())
    assert raised.value.problems[0].field == ("expiresOn",)
    assert await world.count(TaxProfile) == 0
