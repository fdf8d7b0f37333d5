"""The root subscription type: live notifications over graphql-transport-ws (see api/websocket.py).

Each event is a hint (api/events.py); before showing anything the caller is authenticated again
(token and stored roles re-read) and the object is read fresh, then resolved through the normal
types, so the same visibility and field rules apply as for queries. A stream ends when the
caller's token is no longer accepted.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import Any

import strawberry

from api.graphql.context import Context
from api.graphql.declared import TYPES
from api.graphql.fields import resolved
from api.graphql.resolvers import reading
from api.graphql.types import Enrollment, Info, Invitation
from api.graphql.types.viewer import notices
from auth.errors import Unauthenticated
from domain.access import Action
from domain.events import EnrollmentChanged, EventBus, InvitationsIssued
from domain.fiscal import fiscal_year_of


def _bus(info: Info) -> EventBus:
    return info.context.services.events


async def _signed_in_again(info: Info) -> bool:
    """Re-read the caller for a fresh look at the data; False once the token is refused."""
    reauthenticate = info.context.reauthenticate
    if reauthenticate is None:
        return False
    try:
        info.context.principal = await reauthenticate()
    except Unauthenticated:
        return False
    return True


async def _invitations_received(info: Info) -> AsyncGenerator[Invitation, None]:
    context = info.context
    with _bus(info).subscribe() as events:
        # Subscribed first, then the snapshot: an invitation issued in between is not missed.
        sent = {notice.id for notice in await _notices(context)}
        async for event in events:
            if not isinstance(event, InvitationsIssued):
                continue
            if event.fiscal_year != fiscal_year_of(context.clock.today()):
                continue
            if not await _signed_in_again(info):
                return
            # The connection lives long: nothing read for an earlier event may be shown for this one.
            context.forget_read()
            for notice in await _notices(context):
                if notice.id not in sent:
                    sent.add(notice.id)
                    yield Invitation(row=notice)


async def _notices(context: Context) -> list[Any]:
    async with reading(context) as within:
        return await notices(within, Action.INVITATION_NOTICES)


async def _visible_enrollment(info: Info, enrollment_id: int) -> Any | None:
    """The enrollment's row when the caller may see it (`Enrollment`'s guard), decided after
    re-authenticating."""
    declared = TYPES["Enrollment"]
    assert declared.by_id is not None
    async with reading(info.context) as within:
        found = (await declared.by_id(within.source, [enrollment_id])).get(enrollment_id)
    if found is None:
        return None
    principal = info.context.principal
    if not principal.is_operator and principal.organization_id not in (None, found.organization_id):
        return None  # another organization's: not worth re-reading the caller for
    if not await _signed_in_again(info):
        raise Unauthenticated("token no longer accepted")
    return found if declared.visible(info.context, found) else None


async def _enrollment_status_changed(info: Info) -> AsyncGenerator[Enrollment, None]:
    with _bus(info).subscribe() as events:
        async for event in events:
            if not isinstance(event, EnrollmentChanged):
                continue
            info.context.forget_read()
            try:
                found = await _visible_enrollment(info, event.id)
            except Unauthenticated:
                return
            if found is not None:
                yield Enrollment(row=found)


INVITATION_RECEIVED = (
    "Each new home-page notice of the caller, as `viewer.invitations` would list it, when the "
    "operator issues invitations."
)
ENROLLMENT_STATUS_CHANGED = (
    "An enrollment the caller may see, after it was created or changed status; the status is "
    "shown as the caller would see it."
)


def _stream(resolver: Callable[..., Any], description: str, shows: Action) -> Any:
    """A subscription whose events are those `shows` lets the caller see (its resolver's filter)."""
    return resolved(resolver, description, shows=shows, kind=strawberry.subscription)


@strawberry.type(description="Live events over the WebSocket (graphql-transport-ws).")
class Subscription:
    """Live notifications: connect to /graphql with graphql-transport-ws, the token in connection_init."""

    invitation_received: AsyncGenerator[Invitation, None] = _stream(
        _invitations_received, INVITATION_RECEIVED, Action.INVITATION_NOTICES
    )
    enrollment_status_changed: AsyncGenerator[Enrollment, None] = _stream(
        _enrollment_status_changed, ENROLLMENT_STATUS_CHANGED, Action.READ_ENROLLMENT
    )
