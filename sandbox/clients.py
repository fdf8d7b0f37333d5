"""Application registrations of the loopback Entra, and how a confidential client proves itself.

A client authenticates with its secret (form field `client_secret` or HTTP Basic) or with a
client assertion: a JWT signed by the key of its registered certificate, naming that certificate
by thumbprint (`x5t#S256` or the legacy `x5t`), issued by and about the client, addressed to the
token endpoint. Failures are `OAuthError`s in the OAuth 2 shape, with Entra's AADSTS codes.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from starlette.responses import JSONResponse

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass(frozen=True)
class LoopbackApplication:
    """An app registration: a confidential client (secret and/or certificate) or a public client."""

    client_id: str
    secret: str | None = None
    certificate: x509.Certificate | None = None
    public_client: bool = False
    roles: tuple[str, ...] = ("User.Read.All", "Mail.Send")  # application permissions, consented
    redirect_uris: tuple[str, ...] = ()  # single-page app redirect URIs (authorization code + PKCE)


class OAuthError(Exception):
    """An OAuth 2 error response (RFC 6749 section 5.2), with Entra's AADSTS code in the text."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status

    def response(self) -> JSONResponse:
        body = {"error": self.error, "error_description": self.description}
        return JSONResponse(body, self.status)


def client_credentials(headers: Mapping[str, str], form: Mapping[str, str]) -> tuple[str, str | None]:
    """The client id, and the secret if one was sent (HTTP Basic first, as RFC 6749 prefers)."""
    return _basic_credentials(headers) or (form.get("client_id", ""), form.get("client_secret"))


def authenticate_client(
    application: LoopbackApplication, form: Mapping[str, str], secret: str | None, *, token_endpoint: str
) -> None:
    """Accept the client's secret or certificate assertion, or raise `OAuthError` (401)."""
    if secret is not None:
        if application.secret is None or not secrets.compare_digest(secret, application.secret):
            raise OAuthError("invalid_client", "AADSTS7000215: Invalid client secret provided.", 401)
        return
    if form.get("client_assertion_type") == CLIENT_ASSERTION_TYPE and application.certificate:
        _check_assertion(form.get("client_assertion", ""), application, token_endpoint)
        return
    raise OAuthError("invalid_client", "AADSTS7000216: client_assertion or client_secret is required.", 401)


def _basic_credentials(headers: Mapping[str, str]) -> tuple[str, str] | None:
    scheme, _, encoded = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
    except ValueError:
        raise OAuthError("invalid_client", "AADSTS7000215: malformed client credentials.", 401) from None
    return unquote_plus(client_id), unquote_plus(secret)


def _check_assertion(assertion: str, application: LoopbackApplication, audience: str) -> None:
    """A client assertion signed by the registered certificate's key, for this token endpoint."""
    certificate = application.certificate
    assert certificate is not None
    try:
        header = jwt.get_unverified_header(assertion)
        _check_thumbprint(header, certificate)
        claims = jwt.decode(
            assertion,
            certificate.public_key(),  # type: ignore[arg-type]
            algorithms=["PS256", "RS256"],
            audience=audience,
            issuer=application.client_id,
            options={"require": ["exp", "iss", "sub", "aud", "jti"]},
        )
        if claims["sub"] != application.client_id:
            raise jwt.InvalidTokenError("the assertion's subject is not the client")
    except jwt.PyJWTError as error:
        raise OAuthError("invalid_client", f"AADSTS700027: client assertion refused: {error}", 401) from None


def _check_thumbprint(header: Mapping[str, Any], certificate: x509.Certificate) -> None:
    expected = {
        "x5t#S256": certificate.fingerprint(hashes.SHA256()),
        "x5t": certificate.fingerprint(hashes.SHA1()),  # noqa: S303 - the legacy thumbprint Entra accepts
    }
    for name, digest in expected.items():
        if name in header:
            # MSAL keeps the base64 padding, other clients drop it: compare without it.
            if str(header[name]).rstrip("=") != base64.urlsafe_b64encode(digest).decode().rstrip("="):
                raise jwt.InvalidTokenError("the certificate thumbprint does not match")
            return
    raise jwt.InvalidTokenError("the assertion names no certificate thumbprint")
