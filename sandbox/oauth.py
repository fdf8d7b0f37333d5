"""The token side of the loopback Entra: the token endpoint, device codes and the authorization
code flow of single-page apps.

    GET  /common/discovery/instance                 instance discovery, as MSAL asks for it
    POST /{tenant}/oauth2/v2.0/devicecode           device authorization (public clients)
    GET  /{tenant}/oauth2/v2.0/authorize            authorization code with PKCE (sandbox.authorize)
    POST /{tenant}/oauth2/v2.0/token                client_credentials (secret or certificate),
                                                    device_code, authorization_code (cross-origin,
                                                    with its verifier), refresh_token

Only registered applications get tokens. A device code stays `authorization_pending` until the
test approves it (`approve_device_code`) or someone does on the `/devicelogin` page (on loopback;
the verification URI is Microsoft's when routed), unless a user is set to approve every code at once.
Scopes name the resource as Entra does: `https://graph.microsoft.com/.default` gives a token for
`aud` `https://graph.microsoft.com`, `api://{app id}/access_as_user` one for `aud` `{app id}`.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from auth.tokens import is_guid
from sandbox.authorize import (
    CODE_LIFETIME_SECONDS,
    AuthorizationCode,
    AuthorizationRequest,
    check_redirect_uri,
    new_code,
    parse_request,
    picker,
    spa_origins,
)
from sandbox.clients import LoopbackApplication, OAuthError, authenticate_client, client_credentials
from sandbox.devicelogin import PATH as DEVICE_LOGIN_PATH
from sandbox.devicelogin import posted_form
from sandbox.graph import LoopbackDirectory, LoopbackUser
from sandbox.routing import public_base_from
from sandbox.tokens import MULTI_TENANT_AUTHORITIES, LoopbackIssuer

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
OIDC_SCOPES = frozenset({"openid", "profile", "offline_access", "email"})
VERIFICATION_URI = "https://microsoft.com/devicelogin"
TOKEN_LIFETIME_SECONDS = 3599
DEVICE_CODE_LIFETIME_SECONDS = 900
DEVICE_CODE_INTERVAL_SECONDS = 1  # Entra says 5; a loopback test should not wait that long.


@dataclass
class _DeviceCode:
    client_id: str
    authority_tenant: str
    scopes: tuple[str, ...]
    user_code: str
    expires_at: float
    approved_by: LoopbackUser | None = None


@dataclass(frozen=True)
class _Grant:
    """What a refresh token stands for."""

    client_id: str
    user: LoopbackUser
    scopes: tuple[str, ...]
    spa: bool = False  # issued to a single-page app: redeemed cross-origin (CORS)


@dataclass
class _State:
    applications: dict[str, LoopbackApplication] = field(default_factory=dict)
    device_codes: dict[str, _DeviceCode] = field(default_factory=dict)
    refresh_tokens: dict[str, _Grant] = field(default_factory=dict)
    authorization_codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    auto_approver: LoopbackUser | None = None


class LoopbackOAuth:
    """Token and device-code endpoints minting with a `LoopbackIssuer`'s keys."""

    def __init__(self, entra: LoopbackIssuer, directory: LoopbackDirectory | None = None) -> None:
        self._entra = entra
        self._directory = directory or LoopbackDirectory()
        self._state = _State()
        self._lock = threading.Lock()

    def routes(self) -> list[Route]:
        return [
            Route("/common/discovery/instance", self._instance_discovery),
            Route("/{tenant}/oauth2/v2.0/devicecode", self._device_code_endpoint, methods=["POST"]),
            Route("/{tenant}/oauth2/v2.0/authorize", self._authorize_endpoint, methods=["GET", "POST"]),
            Route("/{tenant}/oauth2/v2.0/token", self._token_endpoint, methods=["POST", "OPTIONS"]),
        ]

    def register(self, application: LoopbackApplication) -> LoopbackApplication:
        with self._lock:
            self._state.applications[application.client_id] = application
        return application

    def auto_approve(self, user: LoopbackUser | None) -> None:
        with self._lock:
            self._state.auto_approver = user

    def pending_user_codes(self) -> list[str]:
        with self._lock:
            return [c.user_code for c in self._state.device_codes.values() if c.approved_by is None]

    def approve(self, user_code: str, user: LoopbackUser) -> None:
        with self._lock:
            code = next((c for c in self._state.device_codes.values() if c.user_code == user_code), None)
            if code is None:
                raise KeyError(f"no device code is waiting for user code {user_code!r}")
            _check_user_tenant(code.authority_tenant, user)
            code.approved_by = user

    # --- endpoints ------------------------------------------------------------------------------

    async def _instance_discovery(self, request: Request) -> JSONResponse:
        self._entra.count_request("instance_discovery", "common")
        base = public_base_from(request.headers) or self._entra.base_url
        tenant = _tenant_of(request.query_params.get("authorization_endpoint", ""))
        return JSONResponse(
            {
                "tenant_discovery_endpoint": f"{base}/{tenant}/v2.0/.well-known/openid-configuration",
                "api-version": "1.1",
                "metadata": [
                    {
                        "preferred_network": "login.microsoftonline.com",
                        "preferred_cache": "login.windows.net",
                        "aliases": [
                            "login.microsoftonline.com",
                            "login.windows.net",
                            "login.microsoft.com",
                            "sts.windows.net",
                        ],
                    }
                ],
            },
            headers={"Access-Control-Allow-Origin": "*"},  # MSAL.js asks from the browser
        )

    async def _device_code_endpoint(self, request: Request) -> JSONResponse:
        tenant = request.path_params["tenant"]
        self._entra.count_request("devicecode", tenant)
        try:
            form = await _form(request)
            _check_authority_tenant(tenant, allow_multi_tenant=True)
            application = self._application(form.get("client_id", ""))
            if not application.public_client:
                raise OAuthError("invalid_client", "AADSTS7000218: the app is not a public client.")
            scopes = _resource_scopes(form.get("scope", ""))
            # Routed from login.microsoftonline.com: Microsoft's page; on loopback: our own.
            routed = public_base_from(request.headers) is not None
            page = VERIFICATION_URI if routed else f"{self._entra.base_url}{DEVICE_LOGIN_PATH}"
            return JSONResponse(self._new_device_code(application, tenant, scopes, page))
        except OAuthError as error:
            return error.response()

    async def _authorize_endpoint(self, request: Request) -> Response:
        """The authorization code flow with PKCE (`sandbox.authorize`)."""
        tenant = request.path_params["tenant"]
        self._entra.count_request("authorize", tenant)
        fields = dict(request.query_params) if request.method == "GET" else await posted_form(request)
        try:
            _check_authority_tenant(tenant, allow_multi_tenant=True)
            application = self._application(fields.get("client_id", ""))
            check_redirect_uri(application, fields.get("redirect_uri", ""))
        except OAuthError as error:  # nowhere safe to send it: told on the page, as Entra does
            return picker(str(request.url.path), {}, [], error.description, status=400)
        try:
            authorization = parse_request(tenant, fields, _resource_scopes(fields.get("scope", "")))
        except OAuthError as error:
            sent = AuthorizationRequest.refused(tenant, application.client_id, fields)
            return sent.redirect({"error": error.error, "error_description": error.description})
        users = [user for user in self._directory.everyone() if _in_authority(tenant, user)]
        if request.method == "GET":
            return picker(str(request.url.path), fields, users)
        user = self._directory.by_key(fields.get("user", ""))
        if user is None or not _in_authority(tenant, user):
            return picker(str(request.url.path), fields, users, "Pick a user.", status=400)
        code = new_code()
        with self._lock:
            self._state.authorization_codes[code] = AuthorizationCode(
                authorization, user, time.time() + CODE_LIFETIME_SECONDS
            )
        return authorization.redirect({"code": code, "client_info": _client_info(user)})

    async def _token_endpoint(self, request: Request) -> Response:
        tenant = request.path_params["tenant"]
        self._entra.count_request("token", tenant)
        origin = request.headers.get("origin")
        if request.method == "OPTIONS":  # a single-page app's preflight
            return self._cors(Response(status_code=204), origin, preflight=True)
        try:
            form = await _form(request)
            grant_type = form.get("grant_type", "")
            if grant_type == "client_credentials":
                return JSONResponse(self._client_credentials(request, tenant, form))
            if grant_type == DEVICE_CODE_GRANT:
                return JSONResponse(self._device_code_grant(tenant, form))
            if grant_type == "authorization_code":
                return self._cors(JSONResponse(self._authorization_code_grant(tenant, form, origin)), origin)
            if grant_type == "refresh_token":
                return self._cors(JSONResponse(self._refresh_token_grant(form, origin)), origin)
            raise OAuthError("unsupported_grant_type", f"AADSTS70003: unsupported grant {grant_type!r}.")
        except OAuthError as error:
            return self._cors(error.response(), origin)

    def _cors(self, response: Response, origin: str | None, *, preflight: bool = False) -> Response:
        """Entra answers a single-page app's token requests cross-origin: from the origin of any
        registered redirect URI (a preflight gets the methods and headers it may use)."""
        with self._lock:
            allowed = any(origin in spa_origins(app) for app in self._state.applications.values())
        if origin is not None and allowed:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
            if preflight:
                response.headers["Access-Control-Allow-Methods"] = "POST"
                response.headers["Access-Control-Allow-Headers"] = "Content-Type"
                response.headers["Access-Control-Max-Age"] = "600"
        return response

    # --- grants ---------------------------------------------------------------------------------

    def _client_credentials(self, request: Request, tenant: str, form: Mapping[str, str]) -> dict[str, Any]:
        _check_authority_tenant(tenant, allow_multi_tenant=False)
        application = self._authenticated(request, tenant, form)
        scopes = form.get("scope", "").split()
        if len(scopes) != 1 or not scopes[0].endswith("/.default"):
            raise OAuthError(
                "invalid_scope", "AADSTS1002012: client credentials need one '<resource>/.default'."
            )
        resource = scopes[0].removesuffix("/.default")
        token = self._entra.mint(
            tenant_id=tenant,
            object_id=_service_principal_id(application.client_id, tenant),
            audience=_audience(resource),
            app=True,
            roles=application.roles,
            client_app_id=application.client_id,
        )
        return _token_response(token, scopes)

    def _device_code_grant(self, tenant: str, form: Mapping[str, str]) -> dict[str, Any]:
        with self._lock:
            code = self._state.device_codes.get(form.get("device_code", ""))
            if code is None or code.client_id != form.get("client_id") or code.authority_tenant != tenant:
                raise OAuthError("invalid_grant", "AADSTS70000: the device code is not valid.")
            if code.expires_at < time.time():
                del self._state.device_codes[form["device_code"]]
                raise OAuthError("expired_token", "AADSTS70020: the device code has expired.")
            if code.approved_by is None:
                raise OAuthError("authorization_pending", "AADSTS70016: the user has not signed in yet.")
            del self._state.device_codes[form["device_code"]]  # a device code is redeemed once
        return self._user_tokens(code.client_id, code.approved_by, code.scopes)

    def _authorization_code_grant(
        self, tenant: str, form: Mapping[str, str], origin: str | None
    ) -> dict[str, Any]:
        with self._lock:
            code = self._state.authorization_codes.pop(form.get("code", ""), None)  # redeemed once
        if code is None or code.request.tenant != tenant:
            raise OAuthError("invalid_grant", "AADSTS70000: the authorization code is not valid.")
        code.redeem(form.get("client_id", ""), form.get("redirect_uri", ""), form.get("code_verifier", ""))
        if origin is None:
            raise OAuthError(
                "invalid_request",
                "AADSTS9002327: Tokens issued for the 'Single-Page Application' client-type may only be "
                "redeemed via cross-origin requests.",
            )
        request = code.request
        return self._user_tokens(request.client_id, code.user, request.scopes, nonce=request.nonce, spa=True)

    def _refresh_token_grant(self, form: Mapping[str, str], origin: str | None = None) -> dict[str, Any]:
        with self._lock:
            grant = self._state.refresh_tokens.pop(form.get("refresh_token", ""), None)
        if grant is None or grant.client_id != form.get("client_id"):
            raise OAuthError("invalid_grant", "AADSTS9002313: the refresh token is not valid.")
        if grant.spa and origin is None:
            raise OAuthError(
                "invalid_grant", "AADSTS9002313: a single-page app's refresh token is redeemed cross-origin."
            )
        return self._user_tokens(grant.client_id, grant.user, grant.scopes, spa=grant.spa)

    def _user_tokens(
        self,
        client_id: str,
        user: LoopbackUser,
        scopes: tuple[str, ...],
        *,
        nonce: str | None = None,
        spa: bool = False,
    ) -> dict[str, Any]:
        resource, _ = scopes[0].rsplit("/", 1)
        access_token = self._entra.mint(
            tenant_id=user.tenant_id,
            object_id=user.object_id,
            audience=_audience(resource),
            scopes=[scope.rsplit("/", 1)[1] for scope in scopes],
            wids=user.wids,
            roles=user.app_roles,
            name=user.display_name,
            email=user.mail or user.user_principal_name,
            client_app_id=client_id,
        )
        refresh_token = secrets.token_urlsafe(32)
        with self._lock:
            self._state.refresh_tokens[refresh_token] = _Grant(client_id, user, scopes, spa)
        return {
            **_token_response(access_token, [*scopes, "openid", "profile", "offline_access"]),
            "refresh_token": refresh_token,
            "id_token": self._entra.mint_id_token(user=user, client_id=client_id, nonce=nonce),
            "client_info": _client_info(user),
        }

    # --- helpers --------------------------------------------------------------------------------

    def _application(self, client_id: str) -> LoopbackApplication:
        with self._lock:
            application = self._state.applications.get(client_id)
        if application is None:
            raise OAuthError(
                "unauthorized_client",
                f"AADSTS700016: Application with identifier '{client_id}' was not found.",
            )
        return application

    def _authenticated(self, request: Request, tenant: str, form: Mapping[str, str]) -> LoopbackApplication:
        client_id, secret = client_credentials(request.headers, form)
        application = self._application(client_id)
        # The assertion is addressed to the token endpoint MSAL knows: the public one when routed.
        base = public_base_from(request.headers) or self._entra.base_url
        authenticate_client(application, form, secret, token_endpoint=f"{base}/{tenant}/oauth2/v2.0/token")
        return application

    def _new_device_code(
        self, application: LoopbackApplication, tenant: str, scopes: tuple[str, ...], page: str
    ) -> dict[str, Any]:
        device_code, user_code = secrets.token_urlsafe(32), secrets.token_hex(4).upper()
        code = _DeviceCode(
            application.client_id, tenant, scopes, user_code, time.time() + DEVICE_CODE_LIFETIME_SECONDS
        )
        with self._lock:
            approver = self._state.auto_approver
            if approver is not None:
                if not _in_authority(tenant, approver):
                    raise OAuthError("invalid_request", f"AADSTS50020: the user is not in tenant {tenant}.")
                code.approved_by = approver
            self._state.device_codes[device_code] = code
        return {
            "user_code": user_code,
            "device_code": device_code,
            "verification_uri": page,
            "expires_in": DEVICE_CODE_LIFETIME_SECONDS,
            "interval": DEVICE_CODE_INTERVAL_SECONDS,
            "message": f"To sign in, use a web browser to open the page {page} "
            f"and enter the code {user_code} to authenticate.",
        }


async def _form(request: Request) -> dict[str, str]:
    # OAuth posts are urlencoded; parsed here so the loopback needs no python-multipart.
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise OAuthError("invalid_request", "AADSTS900144: the request body must be a form.")
    return await posted_form(request)


def _in_authority(tenant: str, user: LoopbackUser) -> bool:
    """Whether `user` may sign in at the authority of `tenant` (theirs, or a multi-tenant one)."""
    return tenant in MULTI_TENANT_AUTHORITIES or tenant == user.tenant_id


def _tenant_of(authorization_endpoint: str) -> str:
    segments = urlsplit(authorization_endpoint).path.split("/")
    tenant = segments[1] if len(segments) > 1 else ""
    return tenant if is_guid(tenant) or tenant in MULTI_TENANT_AUTHORITIES else "common"


def _check_authority_tenant(tenant: str, *, allow_multi_tenant: bool) -> None:
    if is_guid(tenant) or (allow_multi_tenant and tenant in MULTI_TENANT_AUTHORITIES):
        return
    raise OAuthError("invalid_request", f"AADSTS90002: Tenant '{tenant}' not found.")


def _check_user_tenant(authority_tenant: str, user: LoopbackUser) -> None:
    if not _in_authority(authority_tenant, user):
        raise ValueError(f"{user.user_principal_name} is not in tenant {authority_tenant}")


def _resource_scopes(scope: str) -> tuple[str, ...]:
    """The resource scopes of a user request; all must name one resource, as Entra insists."""
    scopes = tuple(s for s in scope.split() if s not in OIDC_SCOPES)
    resources = {s.rsplit("/", 1)[0] for s in scopes if "/" in s}
    if not scopes or len(resources) != 1 or any("/" not in s for s in scopes):
        raise OAuthError("invalid_scope", "AADSTS28000: ask for scopes of exactly one resource.")
    return scopes


def _audience(resource: str) -> str:
    # v2 tokens for an API exposed as api://{app id} carry the app id itself as `aud`.
    app_id = resource.removeprefix("api://")
    return app_id if resource.startswith("api://") and is_guid(app_id) else resource


def _service_principal_id(client_id: str, tenant_id: str) -> str:
    # An app has one service principal per tenant it is consented in, each with its own object id.
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant_id}/{client_id}"))


def _token_response(access_token: str, scopes: Sequence[str]) -> dict[str, Any]:
    return {
        "token_type": "Bearer",
        "scope": " ".join(scopes),
        "expires_in": TOKEN_LIFETIME_SECONDS,
        "ext_expires_in": TOKEN_LIFETIME_SECONDS,
        "access_token": access_token,
    }


def _client_info(user: LoopbackUser) -> str:
    raw = json.dumps({"uid": user.object_id, "utid": user.tenant_id}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
