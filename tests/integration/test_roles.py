from __future__ import annotations

from collections.abc import Sequence

import pytest

from auth.principal import Principal
from domain.access import Role
from domain.errors import Conflict, Forbidden, Invalid, NotFound
from domain.model import RoleAssignment, RoleAssignmentLocation, RoleAssignmentProgram, User
from domain.services import roles
from tests.support import actors
from tests.support.world import Org, World


async def assign(
    world: World,
    actor: Principal,
    role: Role = Role.INCENTIVES_ADMIN,
    *,
    object_id: str | None = None,
    locations: Sequence[int] | None = None,
    programs: Sequence[int] | None = None,
    email: str | None = None,
) -> RoleAssignment:
    return await roles.assign_role(
        world.uow(),
        actor,
        user_object_id=object_id or actors.new_guid(),
        display_name="Ada",
        email=email,
        role=role,
        location_ids=locations,
        program_ids=programs,
    )


async def test_global_admin_assigns_a_scoped_incentives_admin(world: World) -> None:
    org = await world.organization()
    location_id = await world.location(org)
    program_id = await world.program()
    assignment = await assign(world, org.global_admin, locations=[location_id], programs=[program_id])
    assert (assignment.organization_id, assignment.role) == (org.id, Role.INCENTIVES_ADMIN)
    assert not assignment.all_locations
    assert not assignment.all_programs
    assert [r.location_id for r in await world.rows(RoleAssignmentLocation)] == [location_id]
    assert [r.program_id for r in await world.rows(RoleAssignmentProgram)] == [program_id]
    assert (await world.audit_actions(org.id))[-1] == "assignRole"


async def test_account_admin_assigns_roles_for_users_of_their_own_tenant(world: World) -> None:
    org = await world.organization()
    object_id = actors.new_guid()
    await assign(world, actors.account_admin(org.tenant_id, org.id), Role.ACCOUNT_ADMIN, object_id=object_id)
    [user] = await world.rows(User, User.object_id == object_id)
    assert user.tenant_id == org.tenant_id


async def test_assigning_again_updates_the_users_name_and_email(world: World) -> None:
    org = await world.organization()
    object_id = actors.new_guid()
    await assign(world, org.global_admin, Role.INCENTIVES_USER, object_id=object_id)
    await assign(
        world, org.global_admin, Role.INCENTIVES_ADMIN, object_id=object_id, email="ada@contoso.example"
    )
    [user] = await world.rows(User, User.object_id == object_id)
    assert user.email == "ada@contoso.example"
    assert await world.count(RoleAssignment) == 2


@pytest.mark.parametrize("who", ["incentives_admin", "member", "stranger", "operator"])
async def test_only_global_or_account_admins_assign_roles(world: World, who: str) -> None:
    org = await world.organization()
    actor = {
        "incentives_admin": actors.incentives_admin(org.tenant_id, org.id),
        "member": actors.member(org.tenant_id, org.id),
        "stranger": actors.stranger(),
        "operator": world.operator,
    }[who]
    with pytest.raises(Forbidden):
        await assign(world, actor)
    assert await world.count(RoleAssignment) == 0


async def test_global_admin_role_cannot_be_assigned(world: World) -> None:
    org = await world.organization()
    with pytest.raises(Invalid) as raised:
        await assign(world, org.global_admin, Role.GLOBAL_ADMIN)
    assert raised.value.problems[0].field == ("role",)
    assert await world.count(RoleAssignment) == 0


async def test_malformed_assignments_report_every_problem(world: World) -> None:
    org = await world.organization()
    with pytest.raises(Invalid) as raised:
        await assign(
            world, org.global_admin, Role.ACCOUNT_ADMIN, object_id="nope", locations=[1], programs=[1]
        )
    assert {p.field for p in raised.value.problems} == {("userObjectId",), ("locationIds",), ("programIds",)}
    with pytest.raises(Invalid) as empty:
        await assign(world, org.global_admin, Role.INCENTIVES_USER, locations=[], programs=[])
    assert {p.field for p in empty.value.problems} == {("locationIds",), ("programIds",)}
    assert await world.count(User) == 1  # the registrant only


async def test_locations_of_another_organization_are_not_found(world: World) -> None:
    org = await world.organization()
    other = await world.organization(name="Fabrikam")
    foreign = await world.location(other)
    with pytest.raises(NotFound) as raised:
        await assign(world, org.global_admin, locations=[foreign])
    assert raised.value.problems[0].field == ("locationIds",)
    with pytest.raises(NotFound) as unknown_program:
        await assign(world, org.global_admin, programs=[4242])
    assert unknown_program.value.problems[0].field == ("programIds",)
    assert await world.count(RoleAssignment) == 0


async def test_an_identical_assignment_is_a_conflict_but_another_scope_is_not(world: World) -> None:
    org = await world.organization()
    first, second = await world.location(org, "A"), await world.location(org, "B")
    object_id = actors.new_guid()
    await assign(world, org.global_admin, object_id=object_id, locations=[first, second])
    with pytest.raises(Conflict):
        await assign(world, org.global_admin, object_id=object_id, locations=[second, first])
    await assign(world, org.global_admin, object_id=object_id, locations=[first])
    await assign(world, org.global_admin, object_id=object_id)
    with pytest.raises(Conflict):
        await assign(world, org.global_admin, object_id=object_id)
    assert await world.count(RoleAssignment) == 3


async def revoke(world: World, actor: Principal, assignment_id: int) -> int:
    return await roles.revoke_role(world.uow(), actor, role_assignment_id=assignment_id)


async def scoped_assignment(world: World, org: Org) -> RoleAssignment:
    location_id = await world.location(org)
    program_id = await world.program()
    return await assign(world, org.global_admin, locations=[location_id], programs=[program_id])


async def test_account_admin_revokes_an_assignment_and_its_scope(world: World) -> None:
    org = await world.organization()
    assignment = await scoped_assignment(world, org)
    assert await revoke(world, actors.account_admin(org.tenant_id, org.id), assignment.id) == assignment.id
    assert await world.count(RoleAssignment) == 0
    assert await world.count(RoleAssignmentLocation) == 0
    assert await world.count(RoleAssignmentProgram) == 0
    assert (await world.audit_actions(org.id))[-1] == "revokeRole"


async def test_another_organizations_assignment_is_not_found_and_an_incentives_admin_is_forbidden(
    world: World,
) -> None:
    org = await world.organization()
    other = await world.organization(name="Fabrikam")
    assignment = await scoped_assignment(world, org)
    with pytest.raises(NotFound):
        await revoke(world, other.global_admin, assignment.id)
    with pytest.raises(NotFound):
        await revoke(world, org.global_admin, 999_999)
    with pytest.raises(Forbidden):
        await revoke(world, actors.incentives_admin(org.tenant_id, org.id), assignment.id)
    assert await world.count(RoleAssignment) == 1
