"""The version of a caller's tenant (`domain.caller_versions`), read where the request reads anyway.

    authenticator = Authenticator(..., read_version=version_reader(sessions))   # one statement
    reads.carry(*carried(unconfirmed))         # the lane: in its first statement's round trip
    Run(..., rows=CarryingRows(sessions, unconfirmed))   # Strawberry's planned read: the same

`version_reader` sends one statement, with no transaction, on a connection the planned reads keep
(`adapters.driver_reads`): no BEGIN and ROLLBACK, no checkout of a session's. A kept connection
the database closed (it restarted) fails with an error of the driver's that does not say so: the
version is then read through a session, which tells the database's absence as such (503).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.driver_reads import DriverReads, driver_reads
from auth.authenticate import Unconfirmed, VersionReader
from domain.caller_versions import VERSION, version_key, version_of
from domain.database import is_unavailable
from domain.model import CallerVersion
from domain.services.callers import callers_version
from domain.uow import UnitOfWork

CARRIED_TENANT = "carried_tenant_id"
# The version as one more column of a statement's rows (its own parameter's name: no statement of
# the planned read has one so named).
_CARRIED = (
    select(CallerVersion.version)
    .where(CallerVersion.tenant_id == bindparam(CARRIED_TENANT))
    .scalar_subquery()
    .label("carried")
)


def version_reader(sessions: async_sessionmaker[AsyncSession]) -> VersionReader:
    """Reads a tenant's version through the driver (a session on another driver, or when the
    driver's connection failed for a reason other than the database's absence)."""
    engine: AsyncEngine = sessions.kw["bind"]

    async def read(tenant_id: str) -> int:
        async with driver_reads(engine) as reads:
            if reads is not None:
                try:
                    return await version_on(reads, tenant_id)
                except Exception as error:
                    if is_unavailable(error):
                        raise
                    # Say a kept connection the database closed ("connection is closed"): let go
                    # (`DriverReads` does), and the session says what holds.
        return await callers_version(UnitOfWork(sessions), tenant_id)

    return read


async def version_on(reads: DriverReads, tenant_id: str) -> int:
    """The tenant's version, one statement on the read's own connection."""
    rows = await reads.rows(VERSION, {"tenant_id": version_key(tenant_id)})
    return version_of(rows[0][0] if rows else None)


def carried(unconfirmed: Unconfirmed) -> tuple[Select[Any], str]:
    """What `DriverReads.carry` reads with the lane's statements to confirm `unconfirmed`."""
    return VERSION, version_key(unconfirmed.tenant_id)


class CarryingRows:
    """The planned read's rows through its session, as `domain.queries.pages` reads them there, the
    first statement that brings a row also carrying the version of the caller's tenant: `SELECT
    <its columns>, (<the version>) AS carried FROM ...`, its rows cut back to its own columns. So
    Strawberry's planned read confirms a remembered caller with no statement of its own, as the
    lane does (`DriverReads.carry`). `carried` holds the version, in a one-tuple, once read."""

    def __init__(self, sessions: Callable[[], AsyncSession], unconfirmed: Unconfirmed) -> None:
        self._sessions = sessions
        self._key = version_key(unconfirmed.tenant_id)
        self.carried: tuple[Any] | None = None

    async def rows(self, statement: Select[Any], values: Mapping[str, Any]) -> Sequence[Any]:
        connection = await self._sessions().connection()
        if self.carried is not None or not isinstance(statement, Select):
            found: Sequence[Any] = (await connection.execute(statement, values)).all()
            return found
        result = await connection.execute(_carrying(statement), {**values, CARRIED_TENANT: self._key})
        frozen = result.freeze()
        if frozen.data:
            self.carried = (frozen.data[0][-1],)
        own: Sequence[Any] = frozen().columns(*range(len(statement.selected_columns))).all()
        return own

    def version(self) -> int | None:
        """The version carried, None when no statement brought a row."""
        return None if self.carried is None else version_of(self.carried[0])


@lru_cache(maxsize=1024)
def _carrying(statement: Select[Any]) -> Select[Any]:
    """`statement` with the version as its last column (its own columns keep their positions)."""
    return statement.add_columns(_CARRIED)
