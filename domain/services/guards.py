"""What every use case checks first: whose object it is (NotFound), then the role (Forbidden).

An object of another organization than the actor's is reported as absent, never as forbidden,
so a caller cannot learn what other organizations hold.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from domain.access import Action, Actor, Scope
from domain.errors import Conflict, Forbidden, NotFound
from domain.model import Enrollment, Location, Organization, Program
from domain.uow import UnitOfWork


def require(actor: Actor, action: Action, scope: Scope = Scope()) -> None:
    if not actor.can(action, scope):
        raise Forbidden(action)


def own_organization_id(actor: Actor, action: Action) -> int:
    """The organization `action` would change: the actor's own; an actor whose tenant has none may
    change nothing of one."""
    if actor.organization_id is None:
        raise Forbidden(action, "your tenant belongs to no organization")
    return actor.organization_id


async def organization(session: AsyncSession, organization_id: int) -> Organization:
    found = await session.get(Organization, organization_id)
    if found is None:
        raise NotFound("organization not found", ["organizationId"])
    return found


async def own_organization(session: AsyncSession, actor: Actor, organization_id: int) -> Organization:
    if organization_id != actor.organization_id:
        raise NotFound("organization not found", ["organizationId"])
    return await organization(session, organization_id)


async def program(session: AsyncSession, program_id: int, field: Sequence[str] = ("programId",)) -> Program:
    found = await session.get(Program, program_id)
    if found is None:
        raise NotFound("program not found", field)
    return found


async def own_location(
    session: AsyncSession, actor: Actor, location_id: int, field: Sequence[str] = ("locationId",)
) -> Location:
    found = await session.get(Location, location_id)
    if found is None or found.organization_id != actor.organization_id:
        raise NotFound("location not found", field)
    return found


async def own_enrollment(
    session: AsyncSession, actor: Actor, enrollment_id: int
) -> tuple[Enrollment, Location]:
    found = await session.get(Enrollment, enrollment_id)
    location = None if found is None else await session.get(Location, found.location_id)
    if found is None or location is None or location.organization_id != actor.organization_id:
        raise NotFound("enrollment not found", ["enrollmentId"])
    return found, location


async def flush_or_conflict(uow: UnitOfWork, message: str, field: Sequence[str] | None = None) -> None:
    """Write pending rows now, so a unique constraint lost to a concurrent caller is a Conflict."""
    try:
        await uow.session.flush()
    except (IntegrityError, StaleDataError) as error:  # a unique row, or a version, lost to another
        raise Conflict(message, field) from error


async def commit_or_conflict(uow: UnitOfWork, message: str, field: Sequence[str] | None = None) -> None:
    await flush_or_conflict(uow, message, field)
    try:
        await uow.commit()
    except IntegrityError as error:
        raise Conflict(message, field) from error
