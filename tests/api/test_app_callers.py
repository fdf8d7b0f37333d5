"""App-only callers (daemons with client-credentials tokens) and the optional client-app allow-list.

A daemon of the operator tenant holding the Incentives.Operator app role is an operator, audited as
its service principal. A daemon is never a partner: not a Global admin whatever its token claims,
and no stored assignment gives it a partner role.
"""

from __future__ import annotations

import uuid

import pytest

from api.app import UNAUTHENTICATED_BODY
from auth.principal import GLOBAL_ADMIN_APP_ROLE, GLOBAL_ADMINISTRATOR_WID, OPERATOR_APP_ROLE
from sandbox.entra import DEMO_CLIENT_APP_ID, new_tenant_id
from tests.api.client import Caller, Client, Json
from tests.api.world import ApiWorld, Invited
from tests.support.configured_api import configured_api, written_rows
from tests.support.entra import OPERATOR_TENANT_ID, RunningEntra
from tests.support.in_process import InProcessApi
from tests.support.world import year_ended

DAEMON_APP_ID = "5e1f0c2a-7b3d-4e8f-9a6b-2c4d6e8f0a1b"
VALID = "2099-12-31"
VIEWER = "{ viewer { objectId isOperator isGlobalAdmin roles organization { id } } }"


def daemon(
    entra: RunningEntra,
    *,
    tenant_id: str = OPERATOR_TENANT_ID,
    roles: tuple[str, ...] = (OPERATOR_APP_ROLE,),
    client_app_id: str = DAEMON_APP_ID,
) -> Caller:
    """A service principal signed in with client credentials (idtyp=app, no scp)."""
    object_id = new_tenant_id()
    token = entra.mint(
        tenant_id=tenant_id, object_id=object_id, app=True, roles=roles, client_app_id=client_app_id
    )
    return Caller(token=token, object_id=object_id, tenant_id=tenant_id)


@pytest.fixture
def invited(world: ApiWorld) -> Invited:
    return world.invited()


def test_a_daemon_of_the_operator_tenant_with_the_operator_role_runs_operator_mutations(
    world: ApiWorld, client: Client, entra: RunningEntra, invited: Invited, api: InProcessApi
) -> None:
    robot = daemon(entra)
    organization = invited.partner.organization_id

    program = client.ok(
        robot, "createProgram", {"code": "ROBOT", "name": "Robot", "criteria": []}, "program { id }"
    )
    client.ok(
        robot, "recordAgreement", {"organizationId": organization, "kind": "PARTNER_PROGRAM", "active": True}
    )
    created = client.ok(
        robot, "issueInvitations", {"programId": program["program"]["id"]}, "invitationsCreated"
    )
    validating = world.validating(invited, VALID)
    reviewed = client.ok(
        robot,
        "reviewEnrollment",
        {"enrollmentId": validating, "approved": True},
        "enrollment { status }",
    )
    year = client.query(robot, "{ currentFiscalYear }")["currentFiscalYear"]
    api.clock.at = year_ended(year)  # rule 23: the year rolls forward once it has ended
    rolled = client.ok(robot, "rollOverFiscalYear", {"fromFiscalYear": year}, "carried")

    assert created["invitationsCreated"] == 1
    assert reviewed["enrollment"]["status"] == "ENROLLED"
    assert rolled["carried"] == 1


def test_the_audit_log_records_the_daemon_s_service_principal(
    client: Client, entra: RunningEntra, invited: Invited
) -> None:
    robot = daemon(entra)
    organization = invited.partner.organization_id

    client.ok(
        robot, "recordAgreement", {"organizationId": organization, "kind": "PARTNER_PROGRAM", "active": True}
    )

    assert ("recordAgreement", robot.object_id) in client.audit_actions(invited.partner.admin)


def test_a_daemon_sees_itself_as_an_operator_and_nothing_else(client: Client, entra: RunningEntra) -> None:
    robot = daemon(entra)

    viewer = client.query(robot, VIEWER)["viewer"]

    assert viewer == {
        "objectId": robot.object_id,
        "isOperator": True,
        "isGlobalAdmin": False,
        "roles": [],
        "organization": None,
    }


@pytest.mark.parametrize(
    "mutation",
    ["createProgram", "recordAgreement", "issueInvitations", "reviewEnrollment", "rollOverFiscalYear"],
)
def test_a_daemon_of_another_tenant_with_the_operator_role_is_forbidden(
    client: Client, entra: RunningEntra, invited: Invited, mutation: str
) -> None:
    stranger = daemon(entra, tenant_id=new_tenant_id())
    inputs: dict[str, Json] = {
        "createProgram": {"code": "NEVER", "name": "Never", "criteria": []},
        "recordAgreement": {
            "organizationId": invited.partner.organization_id,
            "kind": "RESELLER",
            "active": True,
        },
        "issueInvitations": {"programId": invited.program},
        "reviewEnrollment": {"enrollmentId": "RW5yb2xsbWVudDox", "approved": True},
        "rollOverFiscalYear": {"fromFiscalYear": 2000},
    }

    client.forbidden(stranger, mutation, inputs[mutation])


def test_a_daemon_of_a_partner_tenant_is_never_its_global_admin(
    client: Client, entra: RunningEntra, api: InProcessApi
) -> None:
    tenant_id = new_tenant_id()
    robot = daemon(entra, tenant_id=tenant_id, roles=(GLOBAL_ADMIN_APP_ROLE,))
    # Entra can put wids in an app token when the service principal holds a directory role.
    with_wids = entra.mint(
        tenant_id=tenant_id,
        object_id=robot.object_id,
        app=True,
        extra_claims={"wids": [GLOBAL_ADMINISTRATOR_WID], "roles": [GLOBAL_ADMIN_APP_ROLE]},
    )

    for token in (robot.token, with_wids):
        client.forbidden(
            Caller(token=token, object_id=robot.object_id, tenant_id=tenant_id),
            "registerOrganization",
            {"legalName": "Robot Ltd", "country": "DE"},
        )
    assert written_rows(api.database_url)["organizations"] == 0


def test_a_stored_assignment_gives_a_daemon_no_partner_role(
    world: ApiWorld, client: Client, entra: RunningEntra, invited: Invited
) -> None:
    partner = invited.partner
    robot = daemon(entra, tenant_id=partner.tenant_id, roles=())
    world.assign(partner, robot, "INCENTIVES_ADMIN", locations=[invited.location])

    viewer = client.query(robot, VIEWER)["viewer"]

    assert (viewer["roles"], viewer["organization"]) == ([], None)
    client.forbidden(
        robot,
        "createPaymentProfile",
        {"name": "Robot bank", "currency": "EUR", "bankAccountNumber": "DE89370400440532013000"},
    )


def test_only_allowed_client_apps_may_call_when_an_allow_list_is_set(
    entra: RunningEntra, sqlite_url: str
) -> None:
    allowed = f"{DAEMON_APP_ID.upper()}, {DEMO_CLIENT_APP_ID}"
    other_app = str(uuid.uuid4())
    user = entra.mint(tenant_id=new_tenant_id(), object_id=new_tenant_id())
    foreign_user = entra.mint(tenant_id=new_tenant_id(), object_id=new_tenant_id(), client_app_id=other_app)
    foreign_daemon = daemon(entra, client_app_id=other_app).token
    no_azp = entra.mint(tenant_id=new_tenant_id(), object_id=new_tenant_id(), extra_claims={"azp": None})

    with configured_api(sqlite_url, authority=entra.base_url, allowed_client_apps=allowed) as api:
        accepted = [api.graphql(VIEWER, token=token) for token in (user, daemon(entra).token)]
        refused = [
            (api.graphql(VIEWER, token=token), api.last_status)
            for token in (foreign_user, foreign_daemon, no_azp)
        ]

    assert all("errors" not in body for body in accepted), accepted
    assert refused == [(UNAUTHENTICATED_BODY, 401)] * 3


def test_any_client_app_may_call_when_no_allow_list_is_set(api: InProcessApi, entra: RunningEntra) -> None:
    token = entra.mint(tenant_id=new_tenant_id(), object_id=new_tenant_id(), client_app_id=str(uuid.uuid4()))

    body = api.graphql("{ viewer { objectId } }", token=token)

    assert api.last_status == 200, body
    assert "errors" not in body
