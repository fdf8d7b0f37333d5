"""Change events for live notifications: what the service announces after a commit.

An event is a small hint, never data: each subscriber reads from the database what it may see.
`adapters.events` carries them (in process on SQLite, PostgreSQL LISTEN/NOTIFY across processes);
the API publishes after a mutation commits and its subscriptions listen.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, TypeAlias


@dataclass(frozen=True)
class EnrollmentChanged:
    """An enrollment was created or its status changed (enroll, updateEnrollment, reviewEnrollment)."""

    id: int


@dataclass(frozen=True)
class InvitationsIssued:
    """`issueInvitations` created invitations of a program for a fiscal year."""

    program_id: int
    fiscal_year: int


@dataclass(frozen=True)
class CallersChanged:
    """Who the callers of a tenant are changed: a role assigned or revoked, an organization registered.

    Every process drops what it remembers of that tenant's callers (`auth.authenticate.Callers`).
    """

    tenant_id: str


@dataclass(frozen=True)
class EventsMissed:
    """This process may have missed events: its listener was down, and is listening again.

    Never sent between processes; what the process remembers of callers is dropped.
    """


Event: TypeAlias = EnrollmentChanged | InvitationsIssued | CallersChanged | EventsMissed


class Subscription(Protocol):
    """One subscriber's events in order: `with bus.subscribe() as events: async for event in events`."""

    def __aiter__(self) -> AsyncIterator[Event]: ...

    def __enter__(self) -> Subscription: ...

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None: ...


class EventBus(Protocol):
    """Where committed changes are announced and heard; `start`/`stop` belong to the app lifespan."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, event: Event) -> None: ...

    def subscribe(self) -> Subscription:
        """Registered at once: nothing published after this call is missed."""
        ...

    def on_event(self, handler: Callable[[Event], None]) -> None:
        """Call `handler` with every event heard in this process (the service's own bookkeeping,
        not a subscriber): it must be quick and must not block."""
        ...

    @property
    def subscribers(self) -> int:
        """How many streams are open in this process (for metrics and tests)."""
        ...
