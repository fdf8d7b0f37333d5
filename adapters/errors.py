"""What the adapters raise, beyond the domain's errors that their protocols promise.

    domain.errors.OutsideServiceError
     └── GraphError(message, status, retry_after)   Entra or Graph refused the call, or was away
          └── GraphNotConfigured                    no client id, secret or certificate: the
                                                    features using Graph are off (also a
                                                    domain.errors.NotConfigured)

The mail transports raise the domain's `DeliveryError`s (temporary or permanent), which decide
whether the outbox retries a message.
"""

from __future__ import annotations

from domain.errors import NotConfigured, OutsideServiceError


class GraphError(OutsideServiceError):
    """Microsoft Graph or Entra ID refused the call, or could not be reached.

    `status` is Graph's HTTP status when it answered (None: no answer, or Entra refused the token);
    `retry_after` the seconds its `Retry-After` header asked for, when it sent one.
    """

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class GraphNotConfigured(GraphError, NotConfigured):
    """The service has no credentials for Microsoft Graph."""

    def __init__(self, missing: str = "AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH") -> None:
        super().__init__(f"Microsoft Graph is not configured: set {missing}")
