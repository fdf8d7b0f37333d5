"""The loopback Entra's authorization endpoint: the authorization code flow with PKCE, as a
single-page app signs in with MSAL.js (`@azure/msal-browser`) against Entra ID.

    GET  /{tenant}/oauth2/v2.0/authorize?client_id=...&response_type=code&redirect_uri=...
         &scope=...&state=...&nonce=...&code_challenge=...&code_challenge_method=S256
         &response_mode=fragment|query                  a page: pick the user to sign in as
    POST /{tenant}/oauth2/v2.0/authorize                 the same fields and `user`: a code,
                                                         sent back to the redirect URI

The redirect URI must be one the app registered (else a page says so, and nothing is sent
anywhere, as Entra does); PKCE is required, as Entra requires it of single-page apps. The code is
redeemed once, within ten minutes, at the token endpoint by the same client for the same
redirect URI with the verifier of its challenge (`sandbox.oauth`). Instead of a password, the
person picks a user of the directory: loopback only, like all of the sandbox.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from urllib.parse import urlencode, urlsplit

from starlette.responses import HTMLResponse, RedirectResponse, Response

from sandbox.clients import LoopbackApplication, OAuthError
from sandbox.devicelogin import signin_page, user_options
from sandbox.graph import LoopbackUser

CODE_LIFETIME_SECONDS = 600
CHALLENGE_METHODS = frozenset({"S256", "plain"})
RESPONSE_MODES = ("fragment", "query")  # the first is MSAL.js's default for single-page apps
# What the page carries from the request to its form (the rest is not needed to issue a code).
FIELDS = (
    "client_id",
    "response_type",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "response_mode",
)


@dataclass(frozen=True)
class AuthorizationRequest:
    """A checked authorization request."""

    tenant: str
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str
    nonce: str | None
    code_challenge: str
    code_challenge_method: str
    response_mode: str  # "fragment" (MSAL.js's default for SPAs) or "query"

    @classmethod
    def refused(cls, tenant: str, client_id: str, fields: Mapping[str, str]) -> AuthorizationRequest:
        """Where to send the error of a request whose client and redirect URI are good."""
        mode = fields.get("response_mode", RESPONSE_MODES[0])
        mode = mode if mode in RESPONSE_MODES else RESPONSE_MODES[0]
        state = fields.get("state", "")
        return cls(tenant, client_id, fields["redirect_uri"], (), state, None, "", "S256", mode)

    def redirect(self, parameters: Mapping[str, str]) -> Response:
        """Send `parameters` (with the state) back to the app at its redirect URI."""
        encoded = urlencode({**parameters, "state": self.state})
        separator = "#" if self.response_mode == "fragment" else ("&" if "?" in self.redirect_uri else "?")
        return RedirectResponse(f"{self.redirect_uri}{separator}{encoded}", status_code=302)


@dataclass(frozen=True)
class AuthorizationCode:
    request: AuthorizationRequest
    user: LoopbackUser
    expires_at: float

    def redeem(self, client_id: str, redirect_uri: str, verifier: str) -> None:
        """Raise `OAuthError` unless the token request matches this code (RFC 6749 4.1.3, RFC 7636)."""
        if self.expires_at < time.time():
            raise OAuthError("invalid_grant", "AADSTS70008: the authorization code has expired.")
        if client_id != self.request.client_id or redirect_uri != self.request.redirect_uri:
            raise OAuthError(
                "invalid_grant", "AADSTS70002: the code was issued to another client or redirect URI."
            )
        expected = self.request.code_challenge
        if not verifier or not secrets.compare_digest(self._challenge_of(verifier), expected):
            message = "AADSTS501481: The Code_Verifier does not match the code_challenge."
            raise OAuthError("invalid_grant", message)

    def _challenge_of(self, verifier: str) -> str:
        if self.request.code_challenge_method == "plain":
            return verifier
        digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def check_redirect_uri(application: LoopbackApplication, redirect_uri: str) -> None:
    """The redirect URI must be registered exactly (no redirect at all otherwise)."""
    if redirect_uri not in application.redirect_uris:
        raise OAuthError(
            "invalid_request",
            f"AADSTS50011: The redirect URI '{redirect_uri}' specified in the request does not match "
            f"the redirect URIs configured for the application '{application.client_id}'.",
        )


def parse_request(tenant: str, fields: Mapping[str, str], scopes: tuple[str, ...]) -> AuthorizationRequest:
    """The request, once its client and redirect URI are known good; `OAuthError` (to be sent to
    the redirect URI) for anything else it gets wrong."""
    if fields.get("response_type") != "code":
        raise OAuthError("unsupported_response_type", "AADSTS70005: response_type must be 'code'.")
    challenge, method = fields.get("code_challenge", ""), fields.get("code_challenge_method", "plain")
    if not challenge:
        raise OAuthError(
            "invalid_request",
            "AADSTS9002325: Proof Key for Code Exchange is required for cross-origin authorization "
            "code redemption.",
        )
    if method not in CHALLENGE_METHODS:
        message = f"AADSTS50027: code_challenge_method {method!r} is not supported."
        raise OAuthError("invalid_request", message)
    mode = fields.get("response_mode", RESPONSE_MODES[0])
    if mode not in RESPONSE_MODES:
        raise OAuthError("invalid_request", f"AADSTS900144: response_mode {mode!r} is not supported here.")
    return AuthorizationRequest(
        tenant=tenant,
        client_id=fields["client_id"],
        redirect_uri=fields["redirect_uri"],
        scopes=scopes,
        state=fields.get("state", ""),
        nonce=fields.get("nonce") or None,
        code_challenge=challenge,
        code_challenge_method=method,
        response_mode=mode,
    )


def new_code() -> str:
    return secrets.token_urlsafe(48)


def spa_origins(application: LoopbackApplication) -> frozenset[str]:
    """The origins of the app's redirect URIs: where its token requests may come from (CORS)."""
    return frozenset(f"{parts.scheme}://{parts.netloc}" for parts in map(urlsplit, application.redirect_uris))


def picker(
    action: str, fields: Mapping[str, str], users: list[LoopbackUser], problem: str = "", status: int = 200
) -> HTMLResponse:
    """The sign-in page: the request's fields carried along, and the user to sign in as."""
    hidden = "".join(
        f'<input type=hidden name="{name}" value="{escape(fields[name])}">'
        for name in FIELDS
        if name in fields
    )
    error = f'<p role="alert">{escape(problem)}</p>' if problem else ""
    body = (
        f'{error}<form method=post action="{escape(action)}">{hidden}'
        f"<p><label>Sign in as <select name=user autofocus>{user_options(users)}</select></label></p>"
        "<p><button type=submit>Sign in</button></p></form>"
    )
    return HTMLResponse(signin_page(body), status_code=status)
