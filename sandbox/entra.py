"""An Entra-shaped sign-in service on loopback: the demo's identity provider and the tests'.

It publishes, for any GUID tenant, what the API fetches from Microsoft Entra ID, and mints
v2 access tokens signed with its own RSA keys:

    GET /{tenant}/v2.0/.well-known/openid-configuration   issuer = {base_url}/{tenant}/v2.0
    GET /{tenant}/discovery/v2.0/keys                     JWKS of every published key

and, for MSAL (see `sandbox.oauth`) and as a small Microsoft Graph (see `sandbox.graph`):

    GET  /common/discovery/instance                       instance discovery
    POST /{tenant}/oauth2/v2.0/devicecode                 device codes, approved by the test
    POST /{tenant}/oauth2/v2.0/token                      client credentials, device code, refresh
    GET  /v1.0/users/{id or upn}, /v1.0/users?$search=    the directory (`add_directory_user`)
    POST /v1.0/users/{id}/sendMail                        recorded in `sent_mail`
    GET, POST /devicelogin                                enter a device code, pick a user

A request routed here for a Microsoft host (`sandbox.routing`) carries
`X-Loopback-Public-Base: https://login.microsoftonline.com`; discovery then names that host's
endpoints, because that is the authority MSAL believes it talks to. Tokens always carry the
loopback issuer, which is what the API under test trusts.

Running it (loopback hosts only; anything else is a `ValueError`):

    entra = LoopbackEntra()
    with LoopbackEntraServer(entra) as server:       # uvicorn on a background thread, port 0
        token = entra.mint(tenant_id=tid, object_id=oid, audience=client_id)
        rules = TokenRules(authority_host=server.base_url, ...)

    # or inside a running event loop
    server, base_url = await serve_loopback(entra)
    ...
    await server.stop()

Both runners call `entra.set_base(base_url)` once the port is bound, so issuers and tokens name
the real address. `entra.request_count("jwks", tenant_id)` counts what the API fetched, and
`entra.rotate_key()` publishes a new signing key, for key-cache and rotation tests.

    entra.register_application(client_id, secret="s3cret")             # confidential client
    entra.register_application(cli_id, public_client=True)               # device-code client
    alice = entra.add_directory_user(tid, oid, "alice@contoso.com", "Alice", "alice@contoso.com")
    entra.auto_approve_device_codes(alice)        # or entra.approve_device_code(user_code, alice)
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography import x509
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from auth.tokens import is_guid
from sandbox.clients import LoopbackApplication
from sandbox.devicelogin import DeviceLoginPage
from sandbox.graph import LoopbackDirectory, LoopbackGraph, LoopbackUser, SentMail
from sandbox.oauth import LoopbackOAuth
from sandbox.routing import public_base_from
from sandbox.server import LoopbackEntraServer as LoopbackEntraServer
from sandbox.server import LoopbackUvicorn as LoopbackUvicorn
from sandbox.server import serve_loopback as serve_loopback
from sandbox.tokens import DEMO_CLIENT_APP_ID as DEMO_CLIENT_APP_ID
from sandbox.tokens import MULTI_TENANT_AUTHORITIES, LoopbackIssuer
from sandbox.tokens import LoopbackKey as LoopbackKey
from sandbox.tokens import RequestKind as RequestKind
from sandbox.tokens import new_tenant_id as new_tenant_id


class LoopbackEntra(LoopbackIssuer):
    """Discovery, JWKS, token endpoints and a small Graph for any tenant, under one base URL."""

    def __init__(self, issuer_base: str | None = None) -> None:
        super().__init__(issuer_base)
        self._directory = LoopbackDirectory()
        self._oauth = LoopbackOAuth(self, self._directory)
        self._app = Starlette(
            routes=[
                Route("/{tenant}/v2.0/.well-known/openid-configuration", self._discovery_endpoint),
                Route("/{tenant}/discovery/v2.0/keys", self._jwks_endpoint),
                *self._oauth.routes(),
                *LoopbackGraph(self, self._directory).routes(),
                *DeviceLoginPage(self._directory, self._oauth.approve).routes(),
            ]
        )

    @property
    def app(self) -> Starlette:
        return self._app

    def add_routes(self, routes: Sequence[Route]) -> None:
        """More endpoints under the same base URL (the demo's sample-user picker)."""
        self._app.router.routes.extend(routes)

    # --- applications, directory and device codes (see sandbox.oauth / sandbox.graph) ------------

    def register_application(
        self,
        client_id: str,
        *,
        secret: str | None = None,
        certificate: x509.Certificate | None = None,
        public_client: bool = False,
        roles: Sequence[str] = ("User.Read.All", "Mail.Send"),
        redirect_uris: Sequence[str] = (),
    ) -> LoopbackApplication:
        """Register an app: a confidential client (`secret` and/or `certificate`; `roles` are its
        consented application permissions), a `public_client` for the device-code flow, or a
        single-page app (`redirect_uris`) for the authorization code flow with PKCE."""
        application = LoopbackApplication(
            client_id, secret, certificate, public_client, tuple(roles), tuple(redirect_uris)
        )
        return self._oauth.register(application)

    def add_directory_user(
        self,
        tenant_id: str,
        object_id: str,
        user_principal_name: str,
        display_name: str,
        mail: str | None = None,
        wids: Sequence[str] = (),
        app_roles: Sequence[str] = (),
    ) -> LoopbackUser:
        """Put a user in `tenant_id`'s directory, for Graph lookups and sign-in (device code or the
        authorization page); `wids`: their Entra directory roles, in the tokens they get;
        `app_roles`: the API's app roles assigned to them (the `roles` claim of its tokens)."""
        user = LoopbackUser(
            tenant_id, object_id, user_principal_name, display_name, mail, tuple(wids), tuple(app_roles)
        )
        return self._directory.add(user)

    def approve_device_code(self, user_code: str, user: LoopbackUser) -> None:
        """`user` signs in with `user_code`: the next poll for that device code gets tokens."""
        self._oauth.approve(user_code, user)

    def auto_approve_device_codes(self, user: LoopbackUser | None) -> None:
        """Approve every new device code as `user` at once (None: wait for `approve_device_code`)."""
        self._oauth.auto_approve(user)

    def pending_user_codes(self) -> list[str]:
        return self._oauth.pending_user_codes()

    @property
    def sent_mail(self) -> tuple[SentMail, ...]:
        return self._directory.sent_mail

    async def _discovery_endpoint(self, request: Request) -> JSONResponse:
        tenant_id = request.path_params["tenant"]
        self.count_request("discovery", tenant_id)
        if not (is_guid(tenant_id) or tenant_id in MULTI_TENANT_AUTHORITIES):
            return _invalid_tenant()
        return JSONResponse(
            self.openid_configuration(tenant_id, public_base=public_base_from(request.headers)),
            headers=ANY_ORIGIN,
        )

    async def _jwks_endpoint(self, request: Request) -> JSONResponse:
        tenant_id = request.path_params["tenant"]
        self.count_request("jwks", tenant_id)
        if not is_guid(tenant_id):
            return _invalid_tenant()
        return JSONResponse(self.jwks(), headers=ANY_ORIGIN)


# Entra serves its discovery documents and keys to any origin: a single-page app's MSAL.js reads
# them from the browser.
ANY_ORIGIN = {"Access-Control-Allow-Origin": "*"}


def _invalid_tenant() -> JSONResponse:
    return JSONResponse({"error": "invalid_tenant", "error_description": "Tenant not found."}, 400)
