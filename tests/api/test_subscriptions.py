"""Live notifications over graphql-transport-ws, with a real websocket client against the served API.

The server is the `api_server` one (uvicorn in a thread, fresh SQLite) with an event bus the test
can watch, so a mutation is sent only once the subscription is listening.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from adapters.events import InProcessBus
from api.app import create_app
from domain.clock import FixedClock
from domain.database import create_engine
from tests.api.client import Caller, Client
from tests.api.world import ApiWorld, Invited, api_world
from tests.support import personas
from tests.support.databases import run_async
from tests.support.entra import RunningEntra
from tests.support.live import LEGACY_WS, eventually, live, opened
from tests.support.personas import Tenant
from tests.support.served import serve
from tests.support.server import TODAY, ApiServer, api_settings

ENROLLMENTS = "subscription { enrollmentStatusChanged { id status fiscalYear location { id } } }"
INVITATIONS = "subscription { invitationReceived { id fiscalYear channel program { id } location { id } } }"
QUIET = 1.0  # how long "receives nothing" is watched for
# The invitations stream takes its first snapshot just after subscribing; let it finish.
SNAPSHOT_SETTLE = 0.3
EXPIRED_BEFORE_SKEW = timedelta(seconds=-30)  # accepted over HTTP (2 minutes of skew), not here


@dataclass
class LiveApi:
    server: ApiServer
    bus: InProcessBus

    @property
    def url(self) -> str:
        return self.server.url

    async def listening(self, subscriptions: int) -> None:
        await eventually(lambda: self.bus.subscribers >= subscriptions)


@pytest.fixture
def live_api(entra: RunningEntra, sqlite_url: str) -> Iterator[LiveApi]:
    engine = create_engine(sqlite_url)
    clock = FixedClock(TODAY)
    bus = InProcessBus()
    app = create_app(api_settings(entra, sqlite_url), clock=clock, engine=engine, events=bus)
    try:
        with serve(app) as url, httpx.Client(base_url=url, timeout=30) as http:
            server = ApiServer(url=url, database_url=sqlite_url, engine=engine, clock=clock, http=http)
            yield LiveApi(server=server, bus=bus)
    finally:
        run_async(engine.dispose)


@pytest.fixture
def client(live_api: LiveApi, entra: RunningEntra) -> Client:
    return Client(live_api.server, entra)


@pytest.fixture
def world(live_api: LiveApi, client: Client) -> Iterator[ApiWorld]:
    with api_world(live_api.server.database_url, client) as built:
        yield built


def stranger(world: ApiWorld) -> Caller:
    """The Global admin of another organization."""
    return world.partner(legal_name="Fabrikam").admin


def issue_invitations(client: Client, program: str) -> int:
    payload = client.ok(client.operator(), "issueInvitations", {"programId": program}, "invitationsCreated")
    created: int = payload["invitationsCreated"]
    return created


async def test_incentives_admin_hears_the_approval_and_another_organization_hears_nothing(
    live_api: LiveApi, client: Client, world: ApiWorld
) -> None:
    invited = world.invited()
    enrollment = world.validating(invited, "2030-01-31")
    async with (
        live(live_api.url, invited.admin.token) as admin,
        live(live_api.url, stranger(world).token) as other,
    ):
        await admin.subscribe("1", ENROLLMENTS)
        await other.subscribe("1", ENROLLMENTS)
        await live_api.listening(2)
        client.ok(client.operator(), "reviewEnrollment", {"enrollmentId": enrollment, "approved": True})

        heard = (await admin.next_data("1"))["enrollmentStatusChanged"]
        assert heard["id"] == enrollment
        assert heard["status"] == "ENROLLED"
        assert heard["location"] == {"id": invited.location}
        await other.silent_for(QUIET)


async def test_status_is_shown_as_each_caller_would_see_it(
    live_api: LiveApi, client: Client, world: ApiWorld
) -> None:
    invited = world.invited()
    user = world.member(invited.partner, "INCENTIVES_USER", locations=[invited.location])
    world.tax_profile(invited, "2030-01-31")
    profile = world.payment_profile(invited)
    async with live(live_api.url, invited.admin.token) as admin, live(live_api.url, user.token) as viewer:
        await admin.subscribe("a", ENROLLMENTS)
        await viewer.subscribe("u", ENROLLMENTS)
        await live_api.listening(2)
        enroll = {"locationId": invited.location, "programId": invited.program, "paymentProfileId": profile}
        client.ok(invited.admin, "enroll", enroll)

        assert (await admin.next_data("a"))["enrollmentStatusChanged"]["status"] == "VALIDATING_ENROLLMENT"
        assert (await viewer.next_data("u"))["enrollmentStatusChanged"]["status"] == "ENROLLING"


async def test_a_revoked_role_stops_the_notifications(
    live_api: LiveApi, client: Client, world: ApiWorld
) -> None:
    invited = world.invited()
    user = world.user(invited.partner)
    assignment = world.assign(invited.partner, user, "INCENTIVES_USER", locations=[invited.location])
    enrollment = world.validating(invited, "2030-01-31")
    async with live(live_api.url, user.token) as listener:
        await listener.subscribe("1", ENROLLMENTS)
        await live_api.listening(1)
        client.ok(invited.partner.admin, "revokeRole", {"roleAssignmentId": assignment})
        client.ok(client.operator(), "reviewEnrollment", {"enrollmentId": enrollment, "approved": True})

        await listener.silent_for(QUIET)


def _eligible_partner_with_admin(world: ApiWorld) -> tuple[Invited, str]:
    """A partner eligible for a new EMAIL program (criteria), its location's admin; not invited yet."""
    partner = world.partner()
    world.agree(partner, "PARTNER_PROGRAM")
    location = world.location(partner)
    program = world.program(["PARTNER_PROGRAM_AGREEMENT"])
    admin = world.member(partner, "INCENTIVES_ADMIN", locations=[location], programs=[program])
    return Invited(partner=partner, location=location, program=program, admin=admin), program


async def test_incentives_admin_hears_a_new_invitation_and_another_organization_hears_nothing(
    live_api: LiveApi, client: Client, world: ApiWorld
) -> None:
    invited, program = _eligible_partner_with_admin(world)
    async with (
        live(live_api.url, invited.admin.token) as admin,
        live(live_api.url, stranger(world).token) as other,
    ):
        await admin.subscribe("1", INVITATIONS)
        await other.subscribe("1", INVITATIONS)
        await live_api.listening(2)
        await _settle()
        assert issue_invitations(client, program) == 1

        heard = (await admin.next_data("1"))["invitationReceived"]
        assert heard["program"] == {"id": program}
        assert heard["location"] == {"id": invited.location}
        assert heard["channel"] == "EMAIL"
        notices = client.query(invited.admin, "{ viewer { invitations { id } } }")["viewer"]["invitations"]
        assert notices == [{"id": heard["id"]}]
        await admin.silent_for(QUIET)  # once only
        await other.silent_for(0)


async def test_invitations_visible_before_subscribing_are_not_sent_again(
    live_api: LiveApi, client: Client, world: ApiWorld
) -> None:
    invited, program = _eligible_partner_with_admin(world)
    world.invite(program)
    second = world.program(["PARTNER_PROGRAM_AGREEMENT"])
    async with live(live_api.url, invited.admin.token) as admin:
        await admin.subscribe("1", INVITATIONS)
        await live_api.listening(1)
        await _settle()
        issue_invitations(client, second)  # the admin covers `program` only: nothing new for it

        await admin.silent_for(QUIET)


async def _settle() -> None:
    await asyncio.sleep(SNAPSHOT_SETTLE)


@pytest.mark.parametrize(
    "message",
    [
        pytest.param({"id": "1", "type": "subscribe", "payload": {"query": ENROLLMENTS}}, id="subscribe"),
        pytest.param({"type": "ping"}, id="ping"),
    ],
)
async def test_a_message_before_connection_init_closes_the_socket_with_4401(
    live_api: LiveApi, message: dict[str, object]
) -> None:
    async with opened(live_api.url) as client:
        await client.send(message)
        assert await client.closed_with() == (4401, "Unauthorized")
    assert live_api.bus.subscribers == 0


async def test_the_legacy_graphql_ws_protocol_is_refused(live_api: LiveApi) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with opened(live_api.url, LEGACY_WS):
            pass
    assert refused.value.response.status_code == 403


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({}, id="no token"),
        pytest.param({"Authorization": "Bearer not-a-token"}, id="not a token"),
        pytest.param({"token": ""}, id="empty token"),
    ],
)
async def test_connection_init_without_an_accepted_token_is_refused_with_4403(
    live_api: LiveApi, payload: dict[str, str]
) -> None:
    await _refused(live_api, payload)


async def test_a_token_past_its_expiry_is_refused_even_within_the_clock_skew(
    live_api: LiveApi, entra: RunningEntra
) -> None:
    tenant = Tenant()
    token = entra.mint(tenant_id=tenant.id, object_id=personas.new_guid(), lifetime=EXPIRED_BEFORE_SKEW)
    await _refused(live_api, {"Authorization": f"Bearer {token}"})


async def test_every_documented_payload_shape_is_accepted(live_api: LiveApi, entra: RunningEntra) -> None:
    token = personas.user(entra, Tenant()).token
    for payload in (
        {"Authorization": f"Bearer {token}"},
        {"authorization": f"Bearer {token}"},
        {"token": token},
    ):
        async with opened(live_api.url) as client:
            assert (await client.init(payload))["type"] == "connection_ack"


async def _refused(live_api: LiveApi, payload: dict[str, str]) -> None:
    async with opened(live_api.url) as client:
        await client.send({"type": "connection_init", "payload": payload})
        assert await client.closed_with() == (4403, "Forbidden")


async def test_the_stream_ends_when_the_token_expires(live_api: LiveApi, entra: RunningEntra) -> None:
    token = entra.mint(tenant_id=Tenant().id, object_id=personas.new_guid(), lifetime=timedelta(seconds=3))
    async with live(live_api.url, token) as client:
        await client.subscribe("1", ENROLLMENTS)
        await live_api.listening(1)
        assert await client.receive(seconds=6) == {"id": "1", "type": "complete"}
        assert await client.closed_with() == (4403, "Token expired")
    await eventually(lambda: live_api.bus.subscribers == 0)


async def test_queries_and_mutations_are_not_served_over_the_websocket(
    live_api: LiveApi, entra: RunningEntra
) -> None:
    async with live(live_api.url, personas.user(entra, Tenant()).token) as client:
        await client.subscribe("q", "{ viewer { objectId } }")
        refused = await client.receive()
        assert refused["type"] == "error"
        assert refused["id"] == "q"
        assert "POST /graphql" in refused["payload"][0]["message"]
