"""The version of a caller's tenant (`domain.caller_versions`), read where the request reads anyway.

    authenticator = Authenticator(..., read_version=version_reader(sessions))   # one statement
    reads.carry(*carried(unconfirmed))         # the lane: in its first statement's round trip

`version_reader` sends one statement, with no transaction, on a connection the planned reads keep
(`adapters.driver_reads`): no BEGIN and ROLLBACK, no checkout of a session's.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.driver_reads import DriverReads, driver_reads
from auth.authenticate import Unconfirmed, VersionReader
from domain.caller_versions import VERSION, version_key, version_of
from domain.services.callers import callers_version
from domain.uow import UnitOfWork


def version_reader(sessions: async_sessionmaker[AsyncSession]) -> VersionReader:
    """Reads a tenant's version through the driver (a session on another driver)."""
    engine: AsyncEngine = sessions.kw["bind"]

    async def read(tenant_id: str) -> int:
        async with driver_reads(engine) as reads:
            if reads is not None:
                return await version_on(reads, tenant_id)
        return await callers_version(UnitOfWork(sessions), tenant_id)

    return read


async def version_on(reads: DriverReads, tenant_id: str) -> int:
    """The tenant's version, one statement on the read's own connection."""
    rows = await reads.rows(VERSION, {"tenant_id": version_key(tenant_id)})
    return version_of(rows[0][0] if rows else None)


def carried(unconfirmed: Unconfirmed) -> tuple[Select[Any], str]:
    """What `DriverReads.carry` reads with the lane's statements to confirm `unconfirmed`."""
    return VERSION, version_key(unconfirmed.tenant_id)
