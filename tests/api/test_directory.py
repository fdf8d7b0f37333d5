"""The caller's Entra directory through Microsoft Graph: `assignRole` by user principal name and
`directoryUsers`, through the API with real tokens, Graph and MSAL routed to the loopback Entra."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from adapters.graph import ClientSecret
from api.composition import graph_config
from api.settings import Settings
from sandbox.entra import new_tenant_id
from sandbox.graph import LoopbackUser
from tests.api.client import Caller, Client, Json
from tests.api.world import ApiWorld, api_world
from tests.support.entra import API_CLIENT_ID, RunningEntra
from tests.support.in_process import InProcessApi
from tests.support.server import GRAPH_SECRET, without_cost

ASSIGNED = "roleAssignment { user { objectId displayName email } }"
DIRECTORY_USERS = """
query Pick($search: String!, $first: Int) {
  directoryUsers(search: $search, first: $first) { objectId displayName mail userPrincipalName }
}
"""
ROLE_ASSIGNMENTS = """
{ viewer { organization { roleAssignments(first: 100) { edges { node {
  role user { objectId displayName email } } } } } } }
"""
NOT_CONFIGURED = "Microsoft Graph is not configured: set AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH"


@pytest.fixture
def client(api_with_graph: InProcessApi, entra: RunningEntra) -> Client:
    return Client(api_with_graph, entra)


@pytest.fixture
def world(api_with_graph: InProcessApi, client: Client) -> Iterator[ApiWorld]:
    with api_world(api_with_graph.database_url, client) as built:
        yield built


@pytest.fixture
def client_without_graph(api: InProcessApi, entra: RunningEntra) -> Client:
    return Client(api, entra)


@pytest.fixture
def world_without_graph(api: InProcessApi, client_without_graph: Client) -> Iterator[ApiWorld]:
    with api_world(api.database_url, client_without_graph) as built:
        yield built


def directory_user(
    entra: RunningEntra,
    tenant_id: str,
    name: str = "Alice Walker",
    *,
    mail: str | None = "alice@contoso.example",
) -> LoopbackUser:
    """A user of `tenant_id`'s directory with a unique principal name."""
    principal_name = f"{name.split()[0].lower()}.{uuid.uuid4().hex[:6]}@contoso.example"
    return entra.entra.add_directory_user(tenant_id, new_tenant_id(), principal_name, name, mail)


def by_name(user: LoopbackUser, role: str = "INCENTIVES_USER", **extra: Any) -> Json:
    return {"userPrincipalName": user.user_principal_name, "role": role, **extra}


def pick(client: Client, caller: Caller, search: str, first: int | None = None) -> Json:
    return client.api.graphql(DIRECTORY_USERS, {"search": search, "first": first}, caller.token)


def refused(response: Json) -> str:
    """The code of the one error of a `directoryUsers` that gave null."""
    assert response["data"] == {"directoryUsers": None}, response
    (error,) = response["errors"]
    assert error["path"] == ["directoryUsers"], error
    code: str = error["extensions"]["code"]
    return code


def graph_requests(entra: RunningEntra, tenant_id: str) -> int:
    """Token and Graph requests the loopback Entra served for the tenant."""
    counts = entra.entra.request_count
    return counts("token", tenant_id) + counts("graph", tenant_id)


# --- assignRole by userPrincipalName --------------------------------------------------------------


def test_assign_role_by_principal_name_stores_the_directorys_name_and_mail(
    client: Client, entra: RunningEntra, world: ApiWorld
) -> None:
    partner = world.partner()
    alice = directory_user(entra, partner.tenant_id)

    payload = client.ok(partner.admin, "assignRole", by_name(alice), ASSIGNED)

    expected = {"objectId": alice.object_id, "displayName": "Alice Walker", "email": "alice@contoso.example"}
    assert payload["roleAssignment"]["user"] == expected
    edges = client.query(partner.admin, ROLE_ASSIGNMENTS)["viewer"]["organization"]["roleAssignments"][
        "edges"
    ]
    assert [edge["node"] for edge in edges] == [{"role": "INCENTIVES_USER", "user": expected}]


def test_given_display_name_and_email_win_over_the_directorys(
    client: Client, entra: RunningEntra, world: ApiWorld
) -> None:
    partner = world.partner()
    bob = directory_user(entra, partner.tenant_id, "Bob Stone", mail=None)
    given = {"displayName": "Robert Stone", "email": "robert@fabrikam.example"}

    payload = client.ok(partner.admin, "assignRole", by_name(bob, "ACCOUNT_ADMIN", **given), ASSIGNED)

    assert payload["roleAssignment"]["user"] == {"objectId": bob.object_id, **given}


def test_an_account_admin_assigns_by_principal_name(
    client: Client, entra: RunningEntra, world: ApiWorld
) -> None:
    partner = world.partner()
    account_admin = world.member(partner, "ACCOUNT_ADMIN")
    carol = directory_user(entra, partner.tenant_id, "Carol Diaz")

    payload = client.ok(account_admin, "assignRole", by_name(carol), ASSIGNED)

    assert payload["roleAssignment"]["user"]["objectId"] == carol.object_id


def test_unknown_principal_name_is_not_found(client: Client, world: ApiWorld) -> None:
    partner = world.partner()
    input = {"userPrincipalName": "nobody@contoso.example", "role": "INCENTIVES_USER"}

    error = client.user_error(partner.admin, "assignRole", input)

    assert (error["code"], error["field"]) == ("NOT_FOUND", ["input", "userPrincipalName"])


def test_a_user_of_another_tenant_is_never_found(
    client: Client, entra: RunningEntra, world: ApiWorld
) -> None:
    partner, other = world.partner(), world.partner()
    outsider = directory_user(entra, other.tenant_id, "Oscar Outsider")

    error = client.user_error(partner.admin, "assignRole", by_name(outsider))
    found = pick(client, partner.admin, "oscar")

    assert error["code"] == "NOT_FOUND"
    assert without_cost(found) == {"data": {"directoryUsers": []}}


@pytest.mark.parametrize(
    "names",
    [{}, {"userObjectId": new_tenant_id(), "userPrincipalName": "alice@contoso.example"}],
    ids=["neither", "both"],
)
def test_exactly_one_of_object_id_and_principal_name_is_given(
    client: Client, entra: RunningEntra, world: ApiWorld, names: Json
) -> None:
    partner = world.partner()

    error = client.user_error(partner.admin, "assignRole", {"role": "INCENTIVES_USER", **names})

    assert error["code"] == "INVALID"
    assert graph_requests(entra, partner.tenant_id) == 0


def test_assign_by_principal_name_without_graph_credentials_says_so(
    client_without_graph: Client, world_without_graph: ApiWorld
) -> None:
    partner = world_without_graph.partner()

    error = client_without_graph.user_error(
        partner.admin, "assignRole", {"userPrincipalName": "alice@contoso.example", "role": "INCENTIVES_USER"}
    )

    assert error == {"code": "INVALID", "field": ["input", "userPrincipalName"], "message": NOT_CONFIGURED}


def test_assign_by_object_id_still_works_without_graph(
    client_without_graph: Client, world_without_graph: ApiWorld
) -> None:
    partner = world_without_graph.partner()
    member = world_without_graph.user(partner)

    payload = client_without_graph.ok(
        partner.admin, "assignRole", {"userObjectId": member.object_id, "role": "INCENTIVES_USER"}, ASSIGNED
    )

    assert payload["roleAssignment"]["user"]["objectId"] == member.object_id


def test_an_incentives_user_cannot_probe_the_directory(
    client: Client, entra: RunningEntra, world: ApiWorld
) -> None:
    partner = world.partner()
    incentives_user = world.member(partner, "INCENTIVES_USER")
    alice = directory_user(entra, partner.tenant_id)

    client.forbidden(incentives_user, "assignRole", by_name(alice))

    assert graph_requests(entra, partner.tenant_id) == 0


def test_a_graph_failure_asks_to_try_again_and_logs_why(
    client: Client, world: ApiWorld, entra: RunningEntra, caplog: pytest.LogCaptureFixture
) -> None:
    partner = world.partner()
    alice = directory_user(entra, partner.tenant_id)
    # No admin consent for User.Read.All: Graph answers 403 (`api_with_graph` consents again).
    entra.entra.register_application(API_CLIENT_ID, secret=GRAPH_SECRET, roles=["Mail.Send"])

    error = client.user_error(partner.admin, "assignRole", by_name(alice))

    assert (error["code"], error["message"]) == ("INVALID", "the directory could not be reached; try again")
    assert "grant admin consent for User.Read.All" in caplog.text


# --- directoryUsers -------------------------------------------------------------------------------


def test_an_account_admin_picks_users_from_the_directory(
    client: Client, entra: RunningEntra, world: ApiWorld
) -> None:
    partner = world.partner()
    account_admin = world.member(partner, "ACCOUNT_ADMIN")
    alice = directory_user(entra, partner.tenant_id)
    directory_user(entra, partner.tenant_id, "Bob Stone")

    found = pick(client, account_admin, "walk")

    assert without_cost(found) == {
        "data": {
            "directoryUsers": [
                {
                    "objectId": alice.object_id,
                    "displayName": "Alice Walker",
                    "mail": "alice@contoso.example",
                    "userPrincipalName": alice.user_principal_name,
                }
            ]
        }
    }


def test_first_limits_the_users_picked(client: Client, entra: RunningEntra, world: ApiWorld) -> None:
    partner = world.partner()
    for name in ("Ann Contoso", "Ben Contoso", "Cy Contoso"):
        directory_user(entra, partner.tenant_id, name)

    found = pick(client, partner.admin, "contoso", first=2)

    assert len(found["data"]["directoryUsers"]) == 2


@pytest.mark.parametrize("role", ["INCENTIVES_USER", "INCENTIVES_ADMIN", "member", "operator"])
def test_only_global_and_account_admins_pick_users(
    client: Client, entra: RunningEntra, world: ApiWorld, role: str
) -> None:
    partner = world.partner()
    directory_user(entra, partner.tenant_id)

    assert refused(pick(client, world.caller(partner, role), "alice")) == "FORBIDDEN"
    assert graph_requests(entra, partner.tenant_id) == 0


@pytest.mark.parametrize(
    ("search", "first"), [("", None), ("   ", None), ("a" * 101, None), ("alice", 0), ("alice", 51)]
)
def test_search_arguments_out_of_range_are_bad_user_input(
    client: Client, world: ApiWorld, search: str, first: int | None
) -> None:
    partner = world.partner()

    assert refused(pick(client, partner.admin, search, first)) == "BAD_USER_INPUT"


def test_picking_users_without_graph_credentials_is_not_configured(
    client_without_graph: Client, world_without_graph: ApiWorld
) -> None:
    partner = world_without_graph.partner()

    response = pick(client_without_graph, partner.admin, "alice")

    assert refused(response) == "NOT_CONFIGURED"
    assert response["errors"][0]["message"] == NOT_CONFIGURED


# --- settings -------------------------------------------------------------------------------------


def test_the_client_secret_from_settings_reaches_msal_in_plain_text() -> None:
    settings = Settings.model_validate({"AZURE_CLIENT_ID": API_CLIENT_ID, "AZURE_CLIENT_SECRET": "s3cret"})

    assert graph_config(settings).credential == ClientSecret("s3cret")
