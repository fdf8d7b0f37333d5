"""The browser console at /console/: a single-page app over this API, served from files that ship
with the package (api/static/console/), no build step and nothing fetched from the internet.

    Mount(CONSOLE_PATH, routes=console_routes(settings))    # when INCENTIVES_CONSOLE_CLIENT_ID is set

It signs in with MSAL.js (authorization code with PKCE) against AZURE_AUTHORITY_HOST for the API's
scope, as any single-page app does against Entra ID; `config.json` tells it where and as which
application. The page allows scripts, styles and connections from its own origin only (and the
sign-in service's for MSAL), so nothing injected into a page can run or call out.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

from api.settings import Settings
from api.trusted.manifest import document_id

STATIC = Path(__file__).resolve().parent / "static" / "console"
# Every operation of the console, one trusted document: the page sends its id, never its text.
OPERATIONS = STATIC / "operations.graphql"
CONSOLE_PATH = "/console"
# Where the invitation email's link lands under CONSOLE_PATH (domain.mail.messages.get_started_url).
INVITATION_PATH = "/invitations/{invitation_id:int}"
# Partners sign in from their own tenants, operators from the operator tenant: any work account.
SIGN_IN_AUDIENCE = "organizations"


def console_routes(settings: Settings) -> list[BaseRoute]:
    config = console_config(settings)
    authority = _origin(settings.azure_authority_host)
    policy = "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"connect-src 'self' {authority}",  # MSAL's discovery and token requests
            f"frame-src {authority}",  # MSAL's silent renewal
            f"form-action {authority}",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "object-src 'none'",
        )
    )

    async def configuration(request: Request) -> Response:
        return JSONResponse(config)

    async def invitation(request: Request) -> Response:
        # The invitation email's "Get Started" (rule 22): the page itself, which opens the
        # invitation once signed in (its files are named from /console/, so any depth works).
        return FileResponse(STATIC / "index.html", headers={"Content-Security-Policy": policy})

    return [
        Route("/config.json", configuration, methods=["GET"]),
        Route(INVITATION_PATH, invitation, methods=["GET", "HEAD"]),
        Mount("/", _Files(policy)),  # index.html at /console/
    ]


class _Files(StaticFiles):
    """The console's files (index.html for the folder), each under the page's policy: a file
    opened on its own (/console/index.html) gets it too."""

    def __init__(self, policy: str) -> None:
        super().__init__(directory=STATIC, html=True)
        self._policy = policy

    def file_response(
        self, full_path: PathLike, stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Content-Security-Policy"] = self._policy
        return response


def console_config(settings: Settings) -> dict[str, object]:
    """What the page needs to sign in and call: its client ID, the authority, the API's scope and
    the id of its operations (computed here: a page on plain http has no crypto.subtle to hash them)."""
    return {
        "clientId": settings.console_client_id,
        "authorityHost": settings.azure_authority_host.rstrip("/"),
        "tenant": SIGN_IN_AUDIENCE,
        "scopes": [f"api://{settings.azure_client_id}/{settings.required_scope}"],
        "graphqlPath": "/graphql",
        "documentId": document_id(OPERATIONS.read_text(encoding="utf-8")),
        # Home lists tax profiles expiring within as many days as the reminder mails warn.
        "taxReminderDays": settings.tax_reminder_days,
    }


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
