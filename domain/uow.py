"""The unit of work: one transaction per use case, rolled back unless the use case commits."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.clock import Clock, SystemClock


class UnitOfWork:
    """`async with uow: ...; await uow.commit()`; leaving without commit rolls back."""

    session: AsyncSession

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock | None = None) -> None:
        self._sessions = sessions
        self.clock: Clock = clock or SystemClock()

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._sessions()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            await self.session.rollback()
        finally:
            await self.session.close()

    async def commit(self) -> None:
        await self.session.commit()

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        """The session factory, for batch jobs that commit one transaction per batch."""
        return self._sessions
