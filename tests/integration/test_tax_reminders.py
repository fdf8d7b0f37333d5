"""Issue 4: the location's Incentives admins are emailed once when its tax profile is 30 days from expiry."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from auth.principal import Principal
from domain.access import Role
from domain.mail.messages import REMINDER_SUBJECT as SUBJECT
from domain.mail.reminders import queue_tax_expiry_reminders
from domain.model import OutboxMessage, TaxProfile
from domain.services import roles
from tests.integration.statements import counted_statements
from tests.support import actors
from tests.support.world import Org, World

DAYS = 30


async def remind(world: World) -> int:
    return await queue_tax_expiry_reminders(world.uow(), today=world.clock.today(), days=DAYS)


async def assign(
    world: World, org: Org, role: Role, email: str | None, locations: list[int] | None = None
) -> Principal:
    object_id = actors.new_guid()
    await roles.assign_role(
        world.uow(),
        org.global_admin,
        user_object_id=object_id,
        display_name=email,
        email=email,
        role=role,
        location_ids=locations,
        program_ids=None,
    )
    return actors.incentives_admin(org.tenant_id, org.id, locations=locations, object_id=object_id)


def in_days(world: World, days: int) -> date:
    return world.clock.today() + timedelta(days=days)


async def outbox(world: World) -> list[OutboxMessage]:
    return sorted(await world.rows(OutboxMessage), key=lambda message: message.message_id)


async def test_each_incentives_admin_of_the_location_is_reminded_thirty_days_ahead(world: World) -> None:
    org = await world.organization()
    seattle = await world.location(org)
    tacoma = await world.location(org, "Contoso Tacoma")
    admin = await assign(world, org, Role.INCENTIVES_ADMIN, "ines@contoso.example", [seattle])
    await assign(world, org, Role.INCENTIVES_ADMIN, "olga@contoso.example")  # the whole organization
    await assign(world, org, Role.INCENTIVES_ADMIN, "tom@contoso.example", [tacoma])
    await assign(world, org, Role.INCENTIVES_USER, "ugo@contoso.example", [seattle])
    await assign(world, org, Role.INCENTIVES_ADMIN, None, [seattle])  # no address to write to
    profile_id = await world.tax_profile(admin, seattle, in_days(world, DAYS))

    assert await remind(world) == 2

    messages = await outbox(world)
    assert [(m.to_address, m.message_id) for m in messages] == [
        ("ines@contoso.example", f"<tax-expiry-{profile_id}-0@incentives>"),
        ("olga@contoso.example", f"<tax-expiry-{profile_id}-1@incentives>"),
    ]
    assert {m.subject for m in messages} == {SUBJECT}
    assert {m.organization_id for m in messages} == {org.id}
    assert "Contoso Seattle" in messages[0].body_text
    assert in_days(world, DAYS).isoformat() in messages[0].body_text
    [profile] = await world.rows(TaxProfile, TaxProfile.id == profile_id)
    assert profile.expiry_reminder_sent_at == world.clock.now()


async def test_a_reminder_is_sent_once_however_often_the_job_runs(world: World) -> None:
    org = await world.organization()
    location_id = await world.location(org)
    admin = await assign(world, org, Role.INCENTIVES_ADMIN, "ines@contoso.example", [location_id])
    await world.tax_profile(admin, location_id, in_days(world, 10))
    assert await remind(world) == 1

    world.clock.at += timedelta(days=1)

    assert await remind(world) == 0
    assert len(await outbox(world)) == 1


async def test_profiles_further_out_are_reminded_only_once_they_come_within_thirty_days(world: World) -> None:
    org = await world.organization()
    location_id = await world.location(org)
    admin = await assign(world, org, Role.INCENTIVES_ADMIN, "ines@contoso.example", [location_id])
    await world.tax_profile(admin, location_id, in_days(world, DAYS + 1))
    assert await remind(world) == 0

    world.clock.at += timedelta(days=1)

    assert await remind(world) == 1


async def test_an_already_expired_tax_profile_gets_no_reminder(world: World) -> None:
    org = await world.organization()
    location_id = await world.location(org)
    admin = await assign(world, org, Role.INCENTIVES_ADMIN, "ines@contoso.example", [location_id])
    profile_id = await world.tax_profile(admin, location_id, in_days(world, 5))

    world.clock.at += timedelta(days=5)  # the day it expires

    assert await remind(world) == 0
    [profile] = await world.rows(TaxProfile, TaxProfile.id == profile_id)
    assert profile.expiry_reminder_sent_at is None


async def test_a_superseded_tax_profile_gets_no_reminder(world: World) -> None:
    org = await world.organization()
    location_id = await world.location(org)
    admin = await assign(world, org, Role.INCENTIVES_ADMIN, "ines@contoso.example", [location_id])
    await world.tax_profile(admin, location_id, in_days(world, 10))
    await world.tax_profile(admin, location_id, in_days(world, 700))

    assert await remind(world) == 0


async def test_a_location_nobody_can_be_written_to_is_marked_reminded_all_the_same(world: World) -> None:
    org = await world.organization()
    location_id = await world.location(org)
    admin = actors.incentives_admin(org.tenant_id, org.id, locations=[location_id])  # not stored
    profile_id = await world.tax_profile(admin, location_id, in_days(world, 10))

    assert await remind(world) == 0

    [profile] = await world.rows(TaxProfile, TaxProfile.id == profile_id)
    assert profile.expiry_reminder_sent_at is not None


async def test_each_organization_is_reminded_in_the_language_its_country_suggests(world: World) -> None:
    for country in ("FR", "SE", "US"):
        org = await world.organization(country=country, name=f"Org {country}")
        location_id = await world.location(org, f"Site {country}")
        admin = await assign(world, org, Role.INCENTIVES_ADMIN, f"admin@{country.lower()}.example")
        await world.tax_profile(admin, location_id, in_days(world, 10))

    assert await remind(world) == 3

    by_address = {m.to_address: m for m in await outbox(world)}
    french, swedish, english = (by_address[f"admin@{c}.example"] for c in ("fr", "se", "us"))
    assert (french.subject, swedish.subject, english.subject) == (
        "Votre profil fiscal expire bientôt",
        "Er skatteprofil löper snart ut",
        SUBJECT,
    )
    expires_on = in_days(world, 10).isoformat()
    assert "Le profil fiscal de votre emplacement Site FR (PartnerID" in french.body_text
    assert f"expire le {expires_on}" in french.body_text
    assert f"löper ut den {expires_on}" in swedish.body_text
    for message, language in ((french, "fr"), (swedish, "sv"), (english, "en")):
        assert message.body_html is not None
        assert message.body_html.startswith(f'<html lang="{language}">')


async def test_many_due_profiles_cost_the_same_few_statements(world: World) -> None:
    org = await world.organization()
    location_ids = [await world.location(org, f"Contoso {n}") for n in range(6)]
    admin = await assign(world, org, Role.INCENTIVES_ADMIN, "ines@contoso.example")
    for location_id in location_ids:
        await world.tax_profile(admin, location_id, in_days(world, 20))

    with counted_statements(world.sessions) as statements:
        assert await remind(world) == len(location_ids)

    # The claim (UPDATE ... RETURNING), the recipients, the locations, one INSERT of every email.
    assert statements == ["UPDATE", "SELECT", "SELECT", "INSERT"]


async def test_two_runs_at_the_same_time_send_each_reminder_once(world: World) -> None:
    org = await world.organization()
    location_id = await world.location(org)
    admin = await assign(world, org, Role.INCENTIVES_ADMIN, "ines@contoso.example", [location_id])
    await world.tax_profile(admin, location_id, in_days(world, 10))

    queued = await asyncio.gather(remind(world), remind(world))

    assert sorted(queued) == [0, 1]
    assert len(await outbox(world)) == 1
