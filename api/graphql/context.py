"""The per-request context: the caller, fresh DataLoaders, and the app's services."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar, cast

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from adapters.events import publish_safely
from auth.authenticate import Unconfirmed
from auth.principal import Principal
from domain.clock import Clock
from domain.events import CallersChanged, Event
from domain.uow import UnitOfWork

if TYPE_CHECKING:
    from api.composition import Services

T = TypeVar("T")
_MISSING: Any = object()


@dataclass
class Context:
    """What a resolver may use: who calls, the app's services, and what the request made once
    for all its resolvers (`memo`: the status function of this caller, the request's DataLoaders).

    `request` and `response` are None when the schema runs in process (`schema.execute` in tests).

    A remembered caller is `unconfirmed` until their tenant's callers version is read (`confirm`):
    not before the request is admitted (a refused request runs no SQL), and in the first statement
    of a planned read when it has one (`api.read.versions.CarryingRows`), else once, before the
    schema executes anything (`api.graphql.admission.ConfirmedCaller`).
    """

    request_id: str
    principal: Principal
    services: Services
    request: Request | WebSocket | None = None
    response: Response | None = None
    # Websocket connections only (api/websocket.py): the `connection_init` payload, and how to
    # authenticate its token again (each event re-reads the caller, so a revoked role stops them).
    connection_params: dict[str, object] = field(default_factory=dict)
    reauthenticate: Callable[[], Awaitable[Principal]] | None = None
    # What is remembered of the caller, until confirmed at their tenant's version; their token's
    # Authorization header, to read them afresh when it moved.
    unconfirmed: Unconfirmed | None = None
    authorization: Sequence[str] = ()
    _memos: dict[Hashable, Any] = field(default_factory=dict)

    def memo(self, key: Hashable, make: Callable[[], T]) -> T:
        """What this request keeps under `key`, made at the first ask."""
        found = self._memos.get(key, _MISSING)
        if found is _MISSING:
            found = self._memos[key] = make()
        return cast(T, found)

    async def confirm(self, version: int | None = None) -> bool:
        """Confirm the remembered caller at `version` of their tenant's callers (read now when not
        given): whether `principal` held. When it did not, the caller is read afresh into
        `principal` and what the request made for the old one is forgotten."""
        unconfirmed, self.unconfirmed = self.unconfirmed, None
        if unconfirmed is None:
            return True
        authenticator = self.services.authenticator
        if await authenticator.confirm(unconfirmed, version):
            return True
        self.principal = await authenticator.principal_for(self.authorization)
        self.forget_read()
        return False

    async def confirmed(self) -> Principal:
        """The caller, confirmed (`confirm`)."""
        await self.confirm()
        return self.principal

    def forget_read(self) -> None:
        """Forget what was made for this request: after a change it made, or for the next event of
        a long-lived connection (the caller may have been re-read since)."""
        self._memos.clear()

    @property
    def clock(self) -> Clock:
        return self.services.clock

    def today(self) -> date:
        return self.services.clock.today()

    def uow(self) -> UnitOfWork:
        """A new unit of work for one mutation (never shared between concurrent resolvers)."""
        return self.services.uow()

    def mail_queued(self) -> None:
        """Deliver promptly what a mutation just queued (a no-op when mail stays queued)."""
        self.services.mail_queued()

    async def announce(self, event: Event | None) -> None:
        """Tell live subscribers and every process about a committed change (never fails: the
        change is done). A change of callers is forgotten here at once: the caller's next request
        must see it, whenever the event comes back."""
        if event is None:
            return
        recent = self.services.authenticator.recent
        if isinstance(event, CallersChanged) and recent is not None:
            recent.forget_tenant(event.tenant_id)
        await publish_safely(self.services.events, event)
