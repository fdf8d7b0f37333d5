"""Role assignments: stored roles of a tenant's users, scoped to locations and programs."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select

from domain import audit
from domain.access import Action, Actor, Grant, Role, Scope
from domain.errors import Conflict, NotFound
from domain.mail.follow_ups import queue_last_admin_revoked, queue_late_assignment
from domain.mail.messages import DEFAULT_PUBLIC_URL
from domain.model import (
    Location,
    Program,
    RoleAssignment,
    RoleAssignmentLocation,
    RoleAssignmentProgram,
    scope_key,
)
from domain.queries import people
from domain.services.guards import flush_or_conflict, own_organization_id, require
from domain.uow import UnitOfWork
from domain.users import remember_user
from domain.validation import Checks

IdSet = frozenset[int] | None  # None: the entire organization / every program


ALREADY_ASSIGNED = "the user already has this assignment"


async def assign_role(
    uow: UnitOfWork,
    actor: Actor,
    *,
    user_object_id: str,
    display_name: str | None,
    email: str | None,
    role: Role,
    location_ids: Sequence[int] | None,
    program_ids: Sequence[int] | None,
    public_url: str = DEFAULT_PUBLIC_URL,
) -> RoleAssignment:
    """A Global or Account admin gives a user of their tenant a stored role (never GLOBAL_ADMIN,
    which comes from Entra), scoped to the organization's locations and existing programs. A new
    Incentives admin gets the emails of the waiting invitations they now cover (rule 26)."""
    organization_id = own_organization_id(actor, Action.MANAGE_ROLES)
    require(actor, Action.MANAGE_ROLES, Scope(organization_id=organization_id))
    check = Checks()
    user_object_id = check.guid(user_object_id, "userObjectId")
    display_name = check.optional_name(display_name, "displayName", max_length=200)
    email = check.email(email)
    _check_role_scope(check, role, location_ids, program_ids)
    check.done()
    locations = None if location_ids is None else frozenset(location_ids)
    programs = None if program_ids is None else frozenset(program_ids)
    async with uow:
        await _check_scope_exists(uow, organization_id, locations, programs)
        user = await remember_user(
            uow.session,
            tenant_id=actor.tenant_id,
            object_id=user_object_id,
            display_name=display_name,
            email=email,
        )
        if await _same_assignment_exists(uow, organization_id, user.id, role, locations, programs):
            raise Conflict(ALREADY_ASSIGNED)
        assignment = await _store(uow, organization_id, user.id, role, locations, programs)
        audit.record(uow, actor, "assignRole", organization_id, assignment)
        if role is Role.INCENTIVES_ADMIN:
            grant = Grant(role, locations, programs)
            await queue_late_assignment(uow, organization_id, grant, user.id, user.email, public_url)
        await uow.commit()
        return assignment


def _check_role_scope(
    check: Checks, role: Role, location_ids: Sequence[int] | None, program_ids: Sequence[int] | None
) -> None:
    if role is Role.GLOBAL_ADMIN:
        check.fail("role", "the Global admin role comes from Microsoft Entra ID and cannot be assigned")
    if role is Role.ACCOUNT_ADMIN:
        for field, ids in (("locationIds", location_ids), ("programIds", program_ids)):
            if ids is not None:
                check.fail(field, "an Account admin covers the whole organization; give no ids")
    if role in (Role.INCENTIVES_ADMIN, Role.INCENTIVES_USER):
        for field, ids in (("locationIds", location_ids), ("programIds", program_ids)):
            if ids is not None and not ids:
                check.fail(field, "give at least one id, or none for all")


async def _check_scope_exists(
    uow: UnitOfWork, organization_id: int, locations: IdSet, programs: IdSet
) -> None:
    if locations:
        statement = select(func.count()).where(
            Location.id.in_(locations), Location.organization_id == organization_id
        )
        if (await uow.session.execute(statement)).scalar_one() != len(locations):
            raise NotFound("location not found", ["locationIds"])
    if programs:
        statement = select(func.count()).where(Program.id.in_(programs))
        if (await uow.session.execute(statement)).scalar_one() != len(programs):
            raise NotFound("program not found", ["programIds"])


async def _same_assignment_exists(
    uow: UnitOfWork, organization_id: int, user_id: int, role: Role, locations: IdSet, programs: IdSet
) -> bool:
    same_role = await people.assignments_where(
        uow.session,
        RoleAssignment.organization_id == organization_id,
        RoleAssignment.user_id == user_id,
        RoleAssignment.role == role,
    )
    return any(
        (held.grant.location_ids, held.grant.program_ids) == (locations, programs)
        for held in same_role.values()
    )


async def _store(
    uow: UnitOfWork, organization_id: int, user_id: int, role: Role, locations: IdSet, programs: IdSet
) -> RoleAssignment:
    assignment = RoleAssignment(
        organization_id=organization_id,
        user_id=user_id,
        role=role,
        all_locations=locations is None,
        all_programs=programs is None,
        scope_key=scope_key(locations, programs),
        created_at=uow.clock.now(),
    )
    uow.session.add(assignment)
    await flush_or_conflict(uow, ALREADY_ASSIGNED)  # a concurrent identical assignRole won
    uow.session.add_all(
        RoleAssignmentLocation(assignment_id=assignment.id, location_id=i) for i in locations or ()
    )
    uow.session.add_all(
        RoleAssignmentProgram(assignment_id=assignment.id, program_id=i) for i in programs or ()
    )
    return assignment


REVOKED_CONCURRENTLY = "the assignment was revoked at the same time"


async def revoke_role(
    uow: UnitOfWork, actor: Actor, *, role_assignment_id: int, public_url: str = DEFAULT_PUBLIC_URL
) -> int:
    """Returns the id of the revoked assignment. When it was the last Incentives admin covering a
    waiting invitation, the Global and Account admins are asked to assign one (rule 26)."""
    async with uow:
        assignment = await uow.session.get(RoleAssignment, role_assignment_id)
        if assignment is None or assignment.organization_id != actor.organization_id:
            raise NotFound("role assignment not found", ["roleAssignmentId"])
        require(actor, Action.MANAGE_ROLES, Scope(organization_id=assignment.organization_id))
        held = (await people.assignments_where(uow.session, RoleAssignment.id == role_assignment_id)).get(
            role_assignment_id
        )
        if held is None:  # a concurrent revocation deleted it between the two reads
            raise Conflict(REVOKED_CONCURRENTLY, ["roleAssignmentId"])
        for child in (RoleAssignmentLocation, RoleAssignmentProgram):
            await uow.session.execute(delete(child).where(child.assignment_id == role_assignment_id))
        # Deleted by this statement or not at all: of concurrent revocations one deletes the row,
        # the others (which waited for its lock, or read it before) delete nothing: a Conflict.
        deleted = await uow.session.execute(
            delete(RoleAssignment).where(RoleAssignment.id == role_assignment_id)
        )
        if getattr(deleted, "rowcount", 0) != 1:
            raise Conflict(REVOKED_CONCURRENTLY, ["roleAssignmentId"])
        event = audit.record(uow, actor, "revokeRole", assignment.organization_id, assignment)
        if held.grant.role is Role.INCENTIVES_ADMIN:
            await uow.session.flush()  # the event's id names the emails: once per revocation
            await queue_last_admin_revoked(uow, held.organization_id, held.grant, event.id, public_url)
        await uow.commit()
        return role_assignment_id
