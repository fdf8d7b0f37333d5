"""Role assignments (contract rule 3)."""

from __future__ import annotations

from collections.abc import Sequence

from domain.access import Actor
from domain.model import RoleAssignment
from domain.uow import UnitOfWork
from domain.vocabulary import Role


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
) -> RoleAssignment:
    raise NotImplementedError


async def revoke_role(uow: UnitOfWork, actor: Actor, *, role_assignment_id: int) -> int:
    """Returns the id of the revoked assignment."""
    raise NotImplementedError
