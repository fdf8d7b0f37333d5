"""Microsoft Graph, as the service: look up and search a caller's directory, and send mail.

Tokens come from MSAL's `ConfidentialClientApplication` (client credentials: a secret or a
certificate) with the real authority `https://login.microsoftonline.com/{tenant}`: the app is
multi-tenant, so each call names the tenant whose directory it reads and gets that tenant's token.
One MSAL app per tenant keeps its token cache, so a second call reuses the token. MSAL is
synchronous: its calls run in a worker thread, and Graph itself is called with `httpx.AsyncClient`.

    graph = GraphClient(GraphConfig(client_id, ClientSecret(secret)), http)
    user = await graph.user_by_principal_name(tenant_id, "alice@contoso.com")   # a domain.directory.Directory

It raises `adapters.errors.GraphError` (a `domain.errors.OutsideServiceError`) when Entra or Graph
refuses or cannot be reached, and `GraphNotConfigured` (also a `domain.errors.NotConfigured`)
without credentials, so callers of the domain's `Directory` protocol need not know Graph.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import httpx
import msal

from adapters.errors import GraphError, GraphNotConfigured
from adapters.msal_http import MsalHttpClient
from domain.directory import DirectoryUser
from domain.validation import is_guid

DEFAULT_GRAPH_ENDPOINT = "https://graph.microsoft.com"
DEFAULT_AUTHORITY_HOST = "https://login.microsoftonline.com"
_USER_FIELDS = "id,displayName,mail,userPrincipalName"
_MAX_SEARCH_RESULTS = 100
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----", re.DOTALL)


@dataclass(frozen=True)
class ClientSecret:
    value: str = field(repr=False)


@dataclass(frozen=True)
class ClientCertificate:
    """A PEM file holding the private key and certificate, or a PFX/PKCS#12 file."""

    path: Path
    passphrase: str | None = field(default=None, repr=False)


ClientCredential = ClientSecret | ClientCertificate


@dataclass(frozen=True)
class GraphConfig:
    """Who the service is to Entra, and where Graph is; `credential` None means not configured."""

    client_id: str | None
    credential: ClientCredential | None
    graph_endpoint: str = DEFAULT_GRAPH_ENDPOINT
    authority_host: str = DEFAULT_AUTHORITY_HOST
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class GraphMessage:
    """A message for Graph's `sendMail`, sent as the `from_user` mailbox."""

    subject: str
    body: str
    to: Sequence[str]
    content_type: Literal["Text", "HTML"] = "Text"
    save_to_sent_items: bool = False

    def as_graph(self) -> dict[str, Any]:
        recipients = [{"emailAddress": {"address": address}} for address in self.to]
        message = {
            "subject": self.subject,
            "body": {"contentType": self.content_type, "content": self.body},
            "toRecipients": recipients,
        }
        return {"message": message, "saveToSentItems": self.save_to_sent_items}


class GraphClient:
    """Graph calls in a tenant's directory, with an app-only token for that tenant."""

    def __init__(
        self,
        config: GraphConfig,
        http: httpx.AsyncClient,
        *,
        msal_http: MsalHttpClient | None = None,
    ) -> None:
        self._config = config
        self._http = http
        self._owns_msal_http = msal_http is None
        self._msal_http = msal_http or MsalHttpClient()
        self._apps: dict[str, msal.ConfidentialClientApplication] = {}
        self._apps_lock = threading.Lock()
        self._msal_credential: str | dict[str, Any] | None = None

    @property
    def configured(self) -> bool:
        return bool(self._config.client_id and self._config.credential)

    async def user_by_principal_name(self, tenant_id: str, user_principal_name: str) -> DirectoryUser | None:
        """The user with this UPN in `tenant_id`'s directory, or None when there is none."""
        if not _looks_like_upn(user_principal_name):
            return None
        path = f"/v1.0/users/{quote(user_principal_name, safe='@')}"
        body = await self._get(tenant_id, path, {"$select": _USER_FIELDS}, missing_ok=True)
        return None if body is None else _directory_user(body)

    async def search_users(self, tenant_id: str, text: str, limit: int = 20) -> list[DirectoryUser]:
        """Users whose display name, mail or UPN starts a word with `text` (Graph's `$search`)."""
        term = re.sub(r'["\\]', "", text).strip()
        if not term:
            return []
        search = " OR ".join(f'"{name}:{term}"' for name in ("displayName", "mail", "userPrincipalName"))
        params = {"$search": search, "$select": _USER_FIELDS, "$top": str(_clamp(limit))}
        # Graph serves $search only from its eventually consistent index, and says so with a 400.
        body = await self._get(tenant_id, "/v1.0/users", params, headers={"ConsistencyLevel": "eventual"})
        return [_directory_user(user) for user in (body or {}).get("value", [])]

    async def send_mail(self, tenant_id: str, from_user: str, message: GraphMessage) -> None:
        """Send `message` from the mailbox `from_user` (object id or UPN) in `tenant_id`."""
        url = f"{self._config.graph_endpoint}/v1.0/users/{quote(from_user, safe='@')}/sendMail"
        token = await self._token(tenant_id)
        response = await self._send("POST", url, token, json=message.as_graph())
        if response.status_code != 202:
            raise _refusal(response)

    async def close(self) -> None:
        """Close the MSAL HTTP client this object made (the injected `httpx.AsyncClient` is the caller's)."""
        if self._owns_msal_http:
            await asyncio.to_thread(self._msal_http.close)

    # --- Graph ------------------------------------------------------------------------------------

    async def _get(
        self,
        tenant_id: str,
        path: str,
        params: Mapping[str, str],
        *,
        headers: Mapping[str, str] | None = None,
        missing_ok: bool = False,
    ) -> dict[str, Any] | None:
        token = await self._token(tenant_id)
        url = f"{self._config.graph_endpoint}{path}"
        response = await self._send("GET", url, token, params=params, headers=headers)
        if response.status_code == 404 and missing_ok:
            return None
        if response.status_code != 200:
            raise _refusal(response)
        body: dict[str, Any] = response.json()
        return body

    async def _send(
        self,
        method: str,
        url: str,
        token: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        sent = {**(headers or {}), "Authorization": f"Bearer {token}"}
        try:
            return await self._http.request(
                method, url, params=params, headers=sent, json=json, timeout=self._config.timeout_seconds
            )
        except httpx.HTTPError as error:
            raise GraphError(f"Microsoft Graph could not be reached: {type(error).__name__}") from error

    # --- tokens -----------------------------------------------------------------------------------

    async def _token(self, tenant_id: str) -> str:
        if not self._config.client_id:
            raise GraphNotConfigured("AZURE_CLIENT_ID")
        if self._config.credential is None:
            raise GraphNotConfigured()
        if not is_guid(tenant_id):
            raise GraphError(f"not a tenant id: {tenant_id!r}")
        return await asyncio.to_thread(self._token_in_thread, tenant_id.lower())

    def _token_in_thread(self, tenant_id: str) -> str:
        try:
            result = self._app_for(tenant_id).acquire_token_for_client(
                scopes=[f"{self._config.graph_endpoint}/.default"]
            )
        except (httpx.HTTPError, ValueError, msal.exceptions.MsalError) as error:
            raise GraphError(
                f"Entra ID could not issue a Graph token for tenant {tenant_id}: {error}"
            ) from error
        if "access_token" not in result:
            description = str(result.get("error_description", "")).splitlines()[:1]
            raise GraphError(f"Entra ID refused a Graph token: {result.get('error')}: {''.join(description)}")
        token: str = result["access_token"]
        return token

    def _app_for(self, tenant_id: str) -> msal.ConfidentialClientApplication:
        with self._apps_lock:
            app = self._apps.get(tenant_id)
        if app is not None:
            return app
        # Built outside the lock: construction fetches the tenant's discovery document, and one slow
        # tenant must not hold up the others. A rare duplicate app for one tenant is harmless.
        app = msal.ConfidentialClientApplication(
            self._config.client_id,
            client_credential=self._credential(),
            authority=f"{self._config.authority_host}/{tenant_id}",
            http_client=self._msal_http,
        )
        with self._apps_lock:
            return self._apps.setdefault(tenant_id, app)

    def _credential(self) -> str | dict[str, Any]:
        if self._msal_credential is None:
            credential = self._config.credential
            assert credential is not None  # checked by _token
            self._msal_credential = _msal_credential(credential)
        return self._msal_credential


def _msal_credential(credential: ClientCredential) -> str | dict[str, Any]:
    if isinstance(credential, ClientSecret):
        return credential.value
    if credential.path.suffix.lower() in (".pfx", ".p12"):
        return {"private_key_pfx_path": str(credential.path), "passphrase": credential.passphrase}
    try:
        pem = credential.path.read_text()
    except OSError as error:
        raise GraphError(f"the client certificate cannot be read: {error.strerror}") from None
    blocks = {match.group(1): match.group(0) for match in _PEM_BLOCK.finditer(pem)}
    key = next((block for kind, block in blocks.items() if kind.endswith("PRIVATE KEY")), None)
    if key is None or "CERTIFICATE" not in blocks:
        raise GraphError("the client certificate file must hold a PEM private key and its certificate")
    # With the certificate given, MSAL signs its assertion with the SHA-256 thumbprint (PS256).
    return {
        "private_key": key,
        "public_certificate": blocks["CERTIFICATE"],
        "passphrase": credential.passphrase,
    }


def _looks_like_upn(value: str) -> bool:
    local, at, domain = value.partition("@")
    return bool(local and at and domain) and not any(c in value for c in "/\\?%\"' ")


def _clamp(limit: int) -> int:
    return max(1, min(limit, _MAX_SEARCH_RESULTS))


def _directory_user(body: Mapping[str, Any]) -> DirectoryUser:
    return DirectoryUser(
        object_id=str(body["id"]),
        display_name=str(body.get("displayName") or ""),
        mail=body.get("mail"),
        user_principal_name=str(body.get("userPrincipalName") or ""),
    )


def _refusal(response: httpx.Response) -> GraphError:
    try:
        error = response.json().get("error", {})
        detail = f"{error.get('code')}: {error.get('message')}"
    except (ValueError, AttributeError):
        detail = response.reason_phrase
    hint = " (grant admin consent for User.Read.All)" if response.status_code == 403 else ""
    return GraphError(
        f"Microsoft Graph answered {response.status_code}: {detail}{hint}",
        status=response.status_code,
        retry_after=_retry_after(response),
    )


def _retry_after(response: httpx.Response) -> float | None:
    # Graph sends delta-seconds (throttling, 429/503); an HTTP-date is rare enough to ignore.
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None
