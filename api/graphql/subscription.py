"""The root subscription type: live notifications over graphql-transport-ws (see api/websocket.py).

Each event is a hint (api/events.py); before showing anything the caller is authenticated again
(token and stored roles re-read) and the object is read fresh, then resolved through the normal
types, so the same visibility and field rules apply as for queries. A stream ends when the
caller's token is no longer accepted.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from api.graphql.loaders import Loaders
from api.graphql.types import Enrollment, Info, Invitation
from api.graphql.types.base import subscription_of
from api.graphql.types.viewer import home_page_notices_of
from auth.errors import Unauthenticated
from domain import model as models
from domain.access import Action, Scope
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


def _fresh_loaders(info: Info) -> None:
    # The connection lives long: nothing loaded for an earlier event may be shown for this one.
    info.context.loaders = Loaders(info.context.services.sessions)


async def _invitations_received(info: Info) -> AsyncGenerator[Invitation, None]:
    with _bus(info).subscribe() as events:
        # Subscribed first, then the snapshot: an invitation issued in between is not missed.
        sent = {notice.id for notice in await home_page_notices_of(info)}
        async for event in events:
            if not isinstance(event, InvitationsIssued):
                continue
            if event.fiscal_year != fiscal_year_of(info.context.clock.today()):
                continue
            if not await _signed_in_again(info):
                return
            _fresh_loaders(info)
            for notice in await home_page_notices_of(info):
                if notice.id not in sent:
                    sent.add(notice.id)
                    yield Invitation.from_model(notice)


async def _visible_enrollment(info: Info, enrollment_id: int) -> models.Enrollment | None:
    """The enrollment when the caller may read it (a Global or Account admin of its organization, an
    Incentives role covering it, an operator), decided after re-authenticating."""
    loaders = info.context.loaders
    enrollment = await loaders.enrollment.load(enrollment_id)
    if enrollment is None:
        return None
    location = await loaders.location.load(enrollment.location_id)
    assert location is not None, "foreign key"
    principal = info.context.principal
    if not principal.is_operator and principal.organization_id not in (None, location.organization_id):
        return None  # another organization's: not worth re-reading the caller for
    if not await _signed_in_again(info):
        raise Unauthenticated("token no longer accepted")
    scope = Scope(location.organization_id, location.id, enrollment.program_id)
    return enrollment if info.context.principal.can(Action.READ_ENROLLMENT, scope) else None


async def _enrollment_status_changed(info: Info) -> AsyncGenerator[Enrollment, None]:
    with _bus(info).subscribe() as events:
        async for event in events:
            if not isinstance(event, EnrollmentChanged):
                continue
            _fresh_loaders(info)
            try:
                enrollment = await _visible_enrollment(info, event.id)
            except Unauthenticated:
                return
            if enrollment is not None:
                yield Enrollment.from_model(enrollment)


@strawberry.type(description="Live events over the WebSocket (graphql-transport-ws).")
class Subscription:
    """Live notifications: connect to /graphql with graphql-transport-ws, the token in connection_init."""

    invitation_received: AsyncGenerator[Invitation, None] = subscription_of(
        _invitations_received,
        "Each new home-page notice of the caller, as `viewer.invitations` would list it, when the "
        "operator issues invitations.",
        Action.INVITATION_NOTICES,
    )
    enrollment_status_changed: AsyncGenerator[Enrollment, None] = subscription_of(
        _enrollment_status_changed,
        "An enrollment the caller may see, after it was created or changed status; the status is "
        "shown as the caller would see it.",
        Action.READ_ENROLLMENT,
    )
