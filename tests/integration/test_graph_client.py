"""The Graph client: MSAL client credentials with the real authority, routed to the loopback Entra."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import msal
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from adapters.errors import GraphError, GraphNotConfigured
from adapters.graph import (
    ClientCertificate,
    ClientSecret,
    GraphClient,
    GraphConfig,
    GraphMessage,
)
from adapters.msal_http import MsalHttpClient
from domain.directory import DirectoryUser
from sandbox.entra import new_tenant_id
from sandbox.graph import GRAPH_AUDIENCE, LoopbackUser
from tests.support.entra import API_CLIENT_ID, RunningEntra, routed_async_http, routed_msal_http

SECRET = "correct horse battery staple"


@dataclass(frozen=True)
class Directory:
    tenant_id: str
    client_id: str
    alice: LoopbackUser
    bob: LoopbackUser


@pytest.fixture
def directory(entra: RunningEntra) -> Directory:
    """A fresh tenant (so request counts are this test's) with two users and a registered service."""
    tenant_id, client_id = new_tenant_id(), new_tenant_id()
    entra.entra.register_application(client_id, secret=SECRET)
    alice = entra.entra.add_directory_user(
        tenant_id, new_tenant_id(), "alice@contoso.example", "Alice Walker", "alice@contoso.example"
    )
    bob = entra.entra.add_directory_user(tenant_id, new_tenant_id(), "bob@contoso.example", "Bob Stone", None)
    return Directory(tenant_id, client_id, alice, bob)


@pytest.fixture
def msal_http(entra: RunningEntra) -> Iterator[MsalHttpClient]:
    client = routed_msal_http(entra)
    yield client
    client.close()


@pytest.fixture
async def http(entra: RunningEntra) -> AsyncIterator[httpx.AsyncClient]:
    async with routed_async_http(entra) as client:
        yield client


def graph_client(
    directory: Directory, http: httpx.AsyncClient, msal_http: MsalHttpClient, secret: str = SECRET
) -> GraphClient:
    config = GraphConfig(client_id=directory.client_id, credential=ClientSecret(secret))
    return GraphClient(config, http, msal_http=msal_http)


def as_directory_user(user: LoopbackUser) -> DirectoryUser:
    return DirectoryUser(user.object_id, user.display_name, user.mail, user.user_principal_name)


def test_msal_keeps_the_real_authority_while_talking_to_loopback(
    entra: RunningEntra, directory: Directory, msal_http: MsalHttpClient
) -> None:
    app = msal.ConfidentialClientApplication(
        directory.client_id,
        client_credential=SECRET,
        authority=f"https://login.microsoftonline.com/{directory.tenant_id}",
        http_client=msal_http,
    )
    result = app.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])

    assert "access_token" in result, result
    assert app.authority.token_endpoint == (
        f"https://login.microsoftonline.com/{directory.tenant_id}/oauth2/v2.0/token"
    )
    assert entra.entra.request_count("token", directory.tenant_id) == 1


async def test_user_is_found_by_principal_name(
    directory: Directory, http: httpx.AsyncClient, msal_http: MsalHttpClient
) -> None:
    graph = graph_client(directory, http, msal_http)

    found = await graph.user_by_principal_name(directory.tenant_id, "ALICE@contoso.example")

    assert found == as_directory_user(directory.alice)


async def test_unknown_principal_name_is_none(
    directory: Directory, http: httpx.AsyncClient, msal_http: MsalHttpClient
) -> None:
    graph = graph_client(directory, http, msal_http)

    assert await graph.user_by_principal_name(directory.tenant_id, "carol@contoso.example") is None
    assert await graph.user_by_principal_name(directory.tenant_id, "../users") is None


async def test_another_tenants_user_is_not_found(
    directory: Directory, http: httpx.AsyncClient, msal_http: MsalHttpClient
) -> None:
    graph = graph_client(directory, http, msal_http)

    assert await graph.user_by_principal_name(new_tenant_id(), directory.alice.user_principal_name) is None


async def test_second_lookup_reuses_the_cached_token(
    entra: RunningEntra, directory: Directory, http: httpx.AsyncClient, msal_http: MsalHttpClient
) -> None:
    graph = graph_client(directory, http, msal_http)

    await graph.user_by_principal_name(directory.tenant_id, directory.alice.user_principal_name)
    await graph.search_users(directory.tenant_id, "bob")

    assert entra.entra.request_count("token", directory.tenant_id) == 1
    assert entra.entra.request_count("discovery", directory.tenant_id) == 1
    assert entra.entra.request_count("graph", directory.tenant_id) == 2


async def test_search_finds_users_by_the_start_of_a_word(
    directory: Directory, http: httpx.AsyncClient, msal_http: MsalHttpClient
) -> None:
    graph = graph_client(directory, http, msal_http)

    assert await graph.search_users(directory.tenant_id, "walk") == [as_directory_user(directory.alice)]
    assert await graph.search_users(directory.tenant_id, "bob@") == [as_directory_user(directory.bob)]
    assert await graph.search_users(directory.tenant_id, 'x" OR "displayName:') == []
    assert len(await graph.search_users(directory.tenant_id, "contoso", limit=1)) == 1


async def test_graph_search_requires_eventual_consistency(
    entra: RunningEntra, directory: Directory, msal_http: MsalHttpClient
) -> None:
    token = entra.mint(
        tenant_id=directory.tenant_id, object_id=new_tenant_id(), audience=GRAPH_AUDIENCE, app=True,
        roles=["User.Read.All"],
    )  # fmt: skip
    url = f"{entra.base_url}/v1.0/users"
    params = {"$search": '"displayName:alice"'}
    async with httpx.AsyncClient(trust_env=False, timeout=10) as plain:
        without = await plain.get(url, params=params, headers={"Authorization": f"Bearer {token}"})
        with_header = await plain.get(
            url, params=params, headers={"Authorization": f"Bearer {token}", "ConsistencyLevel": "eventual"}
        )

    assert without.status_code == 400
    assert without.json()["error"]["code"] == "Request_UnsupportedQuery"
    assert [user["id"] for user in with_header.json()["value"]] == [directory.alice.object_id]


@pytest.mark.parametrize(
    ("audience", "roles", "status"),
    [(API_CLIENT_ID, ["User.Read.All"], 401), (GRAPH_AUDIENCE, ["Mail.Send"], 403)],
    ids=["token-for-another-api", "token-without-user-read"],
)
async def test_loopback_graph_refuses_unfit_tokens(
    entra: RunningEntra, directory: Directory, audience: str, roles: list[str], status: int
) -> None:
    token = entra.mint(
        tenant_id=directory.tenant_id, object_id=new_tenant_id(), audience=audience, app=True, roles=roles
    )
    async with httpx.AsyncClient(trust_env=False, timeout=10) as plain:
        response = await plain.get(
            f"{entra.base_url}/v1.0/users/{directory.alice.object_id}",
            headers={"Authorization": f"Bearer {token}"},
        )

    assert response.status_code == status


async def test_missing_credentials_say_graph_is_not_configured(http: httpx.AsyncClient) -> None:
    graph = GraphClient(GraphConfig(API_CLIENT_ID, None), http)

    with pytest.raises(GraphNotConfigured, match="set AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH"):
        await graph.search_users(new_tenant_id(), "alice")
    await graph.close()


async def test_wrong_secret_is_a_graph_error(
    directory: Directory, http: httpx.AsyncClient, msal_http: MsalHttpClient
) -> None:
    graph = graph_client(directory, http, msal_http, secret="wrong")

    with pytest.raises(GraphError, match="invalid_client"):
        await graph.search_users(directory.tenant_id, "alice")


async def test_app_without_user_read_is_told_to_get_consent(
    entra: RunningEntra, directory: Directory, http: httpx.AsyncClient, msal_http: MsalHttpClient
) -> None:
    entra.entra.register_application(directory.client_id, secret=SECRET, roles=["Mail.Send"])
    graph = graph_client(directory, http, msal_http)

    with pytest.raises(GraphError, match=r"403.*admin consent"):
        await graph.user_by_principal_name(directory.tenant_id, directory.alice.user_principal_name)


async def test_certificate_credential_signs_in(
    entra: RunningEntra,
    directory: Directory,
    http: httpx.AsyncClient,
    msal_http: MsalHttpClient,
    tmp_path: Path,
) -> None:
    certificate, pem = self_signed_certificate()
    entra.entra.register_application(directory.client_id, certificate=certificate)
    (tmp_path / "service.pem").write_bytes(pem)
    config = GraphConfig(directory.client_id, ClientCertificate(tmp_path / "service.pem"))
    graph = GraphClient(config, http, msal_http=msal_http)

    found = await graph.user_by_principal_name(directory.tenant_id, directory.bob.user_principal_name)

    assert found == as_directory_user(directory.bob)


async def test_send_mail_reaches_graph(
    entra: RunningEntra, directory: Directory, http: httpx.AsyncClient, msal_http: MsalHttpClient
) -> None:
    graph = graph_client(directory, http, msal_http)
    message = GraphMessage(subject="Enrollment approved", body="Welcome.", to=["partner@fabrikam.example"])

    await graph.send_mail(directory.tenant_id, directory.alice.user_principal_name, message)

    sent = [mail for mail in entra.entra.sent_mail if mail.tenant_id == directory.tenant_id]
    assert [(mail.sender, mail.message["subject"]) for mail in sent] == [
        (directory.alice, "Enrollment approved")
    ]


def self_signed_certificate() -> tuple[x509.Certificate, bytes]:
    """A certificate and a PEM file's bytes (private key, then certificate) for a service."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "incentives-test")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return certificate, key_pem + certificate.public_bytes(serialization.Encoding.PEM)
