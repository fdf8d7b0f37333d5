"""The per-request context: the caller, fresh DataLoaders, and how to open a unit of work."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from api.events import Event, EventBus, publish_safely
from api.settings import Settings
from auth.graph import GraphClient
from auth.principal import Principal
from domain.clock import Clock
from domain.uow import UnitOfWork

if TYPE_CHECKING:
    from api.graphql.loaders import Loaders


@dataclass
class Context:
    request: Request | WebSocket
    response: Response | None
    principal: Principal
    sessions: async_sessionmaker[AsyncSession]
    loaders: Loaders
    clock: Clock
    settings: Settings
    request_id: str
    # Called after a mutation commits, so mail it queued goes out without waiting for a poll.
    mail_queued: Callable[[], None] = field(default=lambda: None)
    # Live notifications (api/events.py): announced after a commit, heard by subscriptions.
    events: EventBus | None = None
    # Microsoft Graph as the service (api/graphql/directory.py); None: not configured.
    graph: GraphClient | None = None
    # Websocket connections only (api/websocket.py): the `connection_init` payload, and how to
    # authenticate its token again (each event re-reads the caller, so a revoked role stops them).
    connection_params: dict[str, object] = field(default_factory=dict)
    reauthenticate: Callable[[], Awaitable[Principal]] | None = None

    def uow(self) -> UnitOfWork:
        """A new unit of work for one mutation (never shared between concurrent resolvers)."""
        return UnitOfWork(self.sessions, self.clock)

    async def announce(self, event: Event | None) -> None:
        """Tell live subscribers about a committed change (never fails: the change is done)."""
        if event is not None and self.events is not None:
            await publish_safely(self.events, event)
