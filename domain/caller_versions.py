"""The version of a tenant's callers: bumped in the transaction of every change to what they may do.

What a process remembers of a caller (`auth.authenticate.Callers`) holds only while the tenant's
version is the one it was read at. The version lives in the database, so a change made through
any process (or a `--workers` child, or while a PostgreSQL listener was down) is seen by the next
request anywhere: one primary-key read per request, where events are only a hint.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.model import CallerVersion
from domain.storage import insert_or_update

# The tenant's version, given `{"tenant_id": version_key(tenant_id)}`; no row while it is 0. Built
# once: the planned reads' driver compiles a statement once per statement object.
VERSION: Select[Any] = select(CallerVersion.version).where(CallerVersion.tenant_id == bindparam("tenant_id"))


def version_key(tenant_id: str) -> str:
    """The tenant's key: tokens spell its GUID in lower case, and an upper-case spelling must not
    escape the bump."""
    return tenant_id.lower()


def version_of(found: Any) -> int:
    """The version from what `VERSION` found (None: no row, so nothing has changed yet)."""
    return int(found or 0)


async def current_version(session: AsyncSession, tenant_id: str) -> int:
    """The tenant's version; 0 while nothing about its callers has changed through the service."""
    return version_of(await session.scalar(VERSION, {"tenant_id": version_key(tenant_id)}))


async def callers_changed(session: AsyncSession, tenant_id: str) -> None:
    """Bump the tenant's version in the caller's transaction: it commits with the change, or not at all.

    An upsert, so the first change of a tenant and concurrent changes all count (the row's lock
    orders them on PostgreSQL; SQLite has one writer).
    """
    await insert_or_update(
        session,
        CallerVersion,
        {"tenant_id": version_key(tenant_id), "version": 1},
        key="tenant_id",
        update={"version": CallerVersion.version + 1},
    )
