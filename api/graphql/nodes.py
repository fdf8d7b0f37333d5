"""`node` and `nodes`: global ids back to objects, only those the caller may see.

A malformed id, a missing row and an object the caller may not see all give null, so a
caller cannot tell another organization's objects from absent ones.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from api.graphql.ids import from_global_id
from api.graphql.pagination import BadUserInputError
from api.graphql.types import (
    Enrollment,
    IncentiveProgram,
    Info,
    Invitation,
    Location,
    Node,
    Organization,
    PaymentProfile,
    RoleAssignment,
    TaxProfile,
    User,
)
from domain import model as models
from domain.access import Action, Scope

MAX_NODES = 100

Resolve = Callable[[Info, int], Awaitable[Node | None]]


def _can(info: Info, action: Action, scope: Scope) -> bool:
    return info.context.principal.can(action, scope)


def _if_member(info: Info, organization_id: int, node: Node) -> Node | None:
    """The node, when the caller may see the organization it belongs to (its members and operators)."""
    return node if _can(info, Action.READ_ORGANIZATION, Scope(organization_id=organization_id)) else None


async def _organization(info: Info, key: int) -> Node | None:
    found = await info.context.loaders.organization.load(key)
    return None if found is None else _if_member(info, found.id, Organization.from_model(found))


async def _location(info: Info, key: int) -> Node | None:
    found = await info.context.loaders.location.load(key)
    return None if found is None else _if_member(info, found.organization_id, Location.from_model(found))


async def _user(info: Info, key: int) -> Node | None:
    found = await info.context.loaders.user.load(key)
    if found is None:
        return None
    organization_id = await info.context.loaders.organization_id_by_tenant.load(found.tenant_id)
    return None if organization_id is None else _if_member(info, organization_id, User.from_model(found))


async def _role_assignment(info: Info, key: int) -> Node | None:
    found = await info.context.loaders.role_assignment.load(key)
    if found is None:
        return None
    scope = Scope(organization_id=found.organization_id, user_id=found.user_id)
    return RoleAssignment.from_model(found) if _can(info, Action.READ_ROLE_ASSIGNMENT, scope) else None


async def _program(info: Info, key: int) -> Node | None:
    found = await info.context.loaders.program.load(key)
    return IncentiveProgram.from_model(found) if found else None


async def _enrollment_scope(info: Info, location_id: int, program_id: int) -> Scope | None:
    location = await info.context.loaders.location.load(location_id)
    return None if location is None else Scope(location.organization_id, location_id, program_id)


async def _if_enrollment_visible(
    info: Info, found: models.Invitation | models.Enrollment, node: Node
) -> Node | None:
    """The node, when the caller may read the enrollments of its (location, program)."""
    scope = await _enrollment_scope(info, found.location_id, found.program_id)
    return node if scope is not None and _can(info, Action.READ_ENROLLMENT, scope) else None


async def _invitation(info: Info, key: int) -> Node | None:
    found = await info.context.loaders.invitation.load(key)
    return None if found is None else await _if_enrollment_visible(info, found, Invitation.from_model(found))


async def _enrollment(info: Info, key: int) -> Node | None:
    found = await info.context.loaders.enrollment.load(key)
    return None if found is None else await _if_enrollment_visible(info, found, Enrollment.from_model(found))


async def _payment_profile(info: Info, key: int) -> Node | None:
    found = await info.context.loaders.payment_profile.load(key)
    if found is None:
        return None
    return _if_member(info, found.organization_id, PaymentProfile.from_model(found))


async def _tax_profile(info: Info, key: int) -> Node | None:
    found = await info.context.loaders.tax_profile.load(key)
    location = None if found is None else await info.context.loaders.location.load(found.location_id)
    if found is None or location is None:
        return None
    if not _can(info, Action.READ_TAX_PROFILE, Scope(location.organization_id, location.id)):
        return None
    return TaxProfile.from_model(found)


RESOLVERS: dict[str, Resolve] = {
    "Organization": _organization,
    "Location": _location,
    "User": _user,
    "RoleAssignment": _role_assignment,
    "IncentiveProgram": _program,
    "Invitation": _invitation,
    "Enrollment": _enrollment,
    "PaymentProfile": _payment_profile,
    "TaxProfile": _tax_profile,
}


async def resolve_node(info: Info, global_id: str) -> Node | None:
    """The object named by `global_id`, or None when malformed, missing or not the caller's to see."""
    decoded = from_global_id(global_id)
    resolve = None if decoded is None else RESOLVERS.get(decoded[0])
    if decoded is None or resolve is None:
        return None
    return await resolve(info, decoded[1])


async def resolve_nodes(info: Info, global_ids: Sequence[str]) -> list[Node | None]:
    if len(global_ids) > MAX_NODES:
        raise BadUserInputError(f"`ids` may hold at most {MAX_NODES} IDs.")
    return list(await asyncio.gather(*(resolve_node(info, value) for value in global_ids)))
