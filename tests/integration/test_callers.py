from __future__ import annotations

from domain.access import Role
from domain.model import User
from domain.services import roles
from domain.services.callers import CallerRecord, load_caller
from tests.integration.statements import counted_statements
from tests.support import actors
from tests.support.world import World


async def test_a_caller_of_a_tenant_without_organization_is_not_stored(world: World) -> None:
    record = await load_caller(
        world.uow(),
        tenant_id=actors.new_guid(),
        object_id=actors.new_guid(),
        display_name="X",
        email=None,
        is_global_admin=True,
    )
    assert (record.organization_id, record.user_id, record.org_roles, record.grants) == (
        None,
        None,
        frozenset(),
        (),
    )
    assert await world.count(User) == 0


async def test_a_caller_of_an_organization_is_remembered_with_their_assignments(world: World) -> None:
    org = await world.organization()
    location_id = await world.location(org)
    program_id = await world.program()
    object_id = actors.new_guid()
    for role, locations, programs in (
        (Role.ACCOUNT_ADMIN, None, None),
        (Role.INCENTIVES_ADMIN, [location_id], [program_id]),
        (Role.INCENTIVES_USER, None, None),
    ):
        await roles.assign_role(
            world.uow(),
            org.global_admin,
            user_object_id=object_id,
            display_name=None,
            email=None,
            role=role,
            location_ids=locations,
            program_ids=programs,
        )
    record = await load_caller(
        world.uow(),
        tenant_id=org.tenant_id,
        object_id=object_id,
        display_name="Ada",
        email="ada@contoso.example",
        is_global_admin=False,
    )
    assert record.organization_id == org.id
    assert record.org_roles == frozenset({Role.ACCOUNT_ADMIN})
    grants = {(g.role, g.location_ids, g.program_ids) for g in record.grants}
    assert grants == {
        (Role.INCENTIVES_ADMIN, frozenset({location_id}), frozenset({program_id})),
        (Role.INCENTIVES_USER, None, None),
    }
    [user] = await world.rows(User, User.object_id == object_id)
    assert (user.id, user.display_name, user.email) == (record.user_id, "Ada", "ada@contoso.example")


async def test_loading_a_known_caller_again_reads_three_statements_and_writes_nothing(world: World) -> None:
    org = await world.organization()
    object_id = actors.new_guid()

    async def load() -> CallerRecord:
        return await load_caller(
            world.uow(),
            tenant_id=org.tenant_id,
            object_id=object_id,
            display_name="Ada",
            email=None,
            is_global_admin=True,
        )

    first = await load()
    with counted_statements(world.sessions) as seen:
        again = await load()
    assert again == first
    assert seen == ["SELECT", "SELECT", "SELECT"]
    [user] = await world.rows(User, User.object_id == object_id)
    assert user.seen_as_global_admin
