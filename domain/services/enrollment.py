"""Enrolling, completing and reviewing enrollments (contract rules 4, 5, 8)."""

from __future__ import annotations

from domain.access import Actor
from domain.model import Enrollment
from domain.uow import UnitOfWork


async def enroll(
    uow: UnitOfWork,
    actor: Actor,
    *,
    location_id: int,
    program_id: int,
    payment_profile_id: int | None,
) -> Enrollment:
    raise NotImplementedError


async def update_enrollment(
    uow: UnitOfWork, actor: Actor, *, enrollment_id: int, payment_profile_id: int
) -> Enrollment:
    raise NotImplementedError


async def review_enrollment(
    uow: UnitOfWork, actor: Actor, *, enrollment_id: int, approved: bool, reason: str | None
) -> Enrollment:
    raise NotImplementedError
