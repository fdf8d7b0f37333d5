"""The Entra users and service principals the service remembers, keyed by (tenant, object id)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.model import User
from domain.storage import insert_if_absent


async def find_user(session: AsyncSession, tenant_id: str, object_id: str) -> User | None:
    statement = select(User).where(User.tenant_id == tenant_id, User.object_id == object_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def remember_user(
    session: AsyncSession,
    *,
    tenant_id: str,
    object_id: str,
    display_name: str | None = None,
    email: str | None = None,
    seen_as_global_admin: bool | None = None,
    seen_at: datetime | None = None,
) -> User:
    """The users row, created when missing; name, email and the admin flag are updated when given."""
    user = await find_user(session, tenant_id, object_id)
    if user is None:
        user = await _insert(session, tenant_id, object_id)
    if display_name is not None:
        user.display_name = display_name
    if email is not None:
        user.email = email
    if seen_as_global_admin is not None:
        user.seen_as_global_admin = seen_as_global_admin
    if seen_at is not None:
        user.last_seen_at = seen_at
    return user


async def _insert(session: AsyncSession, tenant_id: str, object_id: str) -> User:
    # ON CONFLICT DO NOTHING: a concurrent caller storing the same user is not an error.
    row = {"tenant_id": tenant_id, "object_id": object_id, "seen_as_global_admin": False}
    await insert_if_absent(session, User, row)
    user = await find_user(session, tenant_id, object_id)
    assert user is not None, "inserted or found"
    return user
