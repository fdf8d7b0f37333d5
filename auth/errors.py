"""Errors of the auth layer.

    AuthError
     └── Unauthenticated(reason)        no acceptable access token: HTTP 401, code UNAUTHENTICATED
          └── SignInUnavailable(reason)  the tenant's signing keys could not be fetched (still a 401)

`reason` is for logs only. Clients see `Unauthenticated.public_message`, never the reason, so a
caller probing the validator learns nothing about which check refused the token.
"""

from __future__ import annotations


class AuthError(Exception):
    """Base of every error raised by the auth layer."""


class Unauthenticated(AuthError):
    """The request carries no token, or its token fails a check."""

    public_message = "Authentication required: send a valid access token."

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SignInUnavailable(Unauthenticated):
    """The signing keys of the token's tenant could not be fetched or were refused."""
