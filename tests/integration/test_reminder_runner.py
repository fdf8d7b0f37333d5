"""`serve`'s background reminders: a round at startup, then every interval, surviving failures."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from api.composition import tax_reminder_loop
from domain.access import Role
from domain.model import OutboxMessage
from domain.services import roles
from tests.support import actors
from tests.support.world import TODAY, World


@dataclass
class FlakyClock:
    """Stands at TODAY; its first `today()` fails, as a round would when the database is away."""

    failures: int = 1
    asked: int = field(default=0)

    def now(self) -> datetime:
        return TODAY

    def today(self) -> date:
        self.asked += 1
        if self.asked <= self.failures:
            raise ConnectionError("database unavailable")
        return TODAY.date()


async def due_reminder(world: World) -> None:
    org = await world.organization()
    location_id = await world.location(org)
    object_id = actors.new_guid()
    await roles.assign_role(
        world.uow(),
        org.global_admin,
        user_object_id=object_id,
        display_name="Ines",
        email="ines@contoso.example",
        role=Role.INCENTIVES_ADMIN,
        location_ids=[location_id],
        program_ids=None,
    )
    admin = actors.incentives_admin(org.tenant_id, org.id, locations=[location_id], object_id=object_id)
    await world.tax_profile(admin, location_id, TODAY.date() + timedelta(days=10))


async def wait_for_mail(world: World) -> int:
    # The reminders run in their own task and tell nobody but the mail delivery: poll the outbox.
    async with asyncio.timeout(5.0):
        while not (queued := await world.count(OutboxMessage)):  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    return queued


async def test_reminders_run_at_startup_and_wake_the_mail_delivery(world: World) -> None:
    await due_reminder(world)
    woken: list[bool] = []
    reminders = tax_reminder_loop(
        world.sessions, world.clock, days=30, public_url="https://pc.example", interval=3600,
        mail_queued=lambda: woken.append(True),
    )  # fmt: skip

    reminders.start()
    try:
        assert await wait_for_mail(world) == 1
    finally:
        await reminders.stop()
    assert woken == [True]


async def test_a_failed_round_is_tried_again_at_the_next_one(world: World) -> None:
    await due_reminder(world)
    clock = FlakyClock()
    reminders = tax_reminder_loop(
        world.sessions, clock, days=30, public_url="https://pc.example", interval=0.05
    )

    reminders.start()
    try:
        assert await wait_for_mail(world) == 1
    finally:
        await reminders.stop()
    assert clock.asked >= 2
