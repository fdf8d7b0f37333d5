"""A loopback Entra whose keys endpoint can misbehave, and that can publish keys for one tenant only.

    entra = FlakyEntra()
    with served_entra(entra):
        entra.jwks_failure = "error"                 # the keys endpoint answers 500 from now on
        key = entra.publish_tenant_key(tenant_b)     # published in tenant B's JWKS, nowhere else

Every request is still counted by `request_count`, so tests can assert what was fetched.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from sandbox.entra import LoopbackEntra, LoopbackKey
from tests.support.entra import served_entra

JwksFailure = Literal["error", "hang"] | None
# A hanging request gives up after this long even if nobody releases it, so no test can wait forever.
_MAX_HANG_SECONDS = 30.0


class FlakyEntra(LoopbackEntra):
    """`LoopbackEntra` plus a failure switch for `/{tenant}/discovery/v2.0/keys` and per-tenant keys."""

    def __init__(self) -> None:
        super().__init__()
        self.jwks_failure: JwksFailure = None
        self._tenant_keys: dict[str, list[LoopbackKey]] = {}
        self._released = threading.Event()
        self._flaky_app = Starlette(
            routes=[
                Route("/{tenant}/discovery/v2.0/keys", self._flaky_jwks),
                Mount("/", app=super().app),
            ]
        )

    @property
    def app(self) -> Starlette:
        return self._flaky_app

    def publish_tenant_key(self, tenant_id: str) -> LoopbackKey:
        """A new key published in `tenant_id`'s JWKS only (the shared keys stay published too)."""
        key = LoopbackKey.generate()
        self._tenant_keys.setdefault(tenant_id, []).append(key)
        return key

    def release_hanging_requests(self) -> None:
        self._released.set()

    async def _flaky_jwks(self, request: Request) -> Response:
        tenant_id = request.path_params["tenant"]
        self.count_request("jwks", tenant_id)
        if self.jwks_failure == "error":
            return JSONResponse({"error": "temporarily_unavailable"}, status_code=500)
        if self.jwks_failure == "hang":
            await self._hang()
        extra = [key.public_jwk() for key in self._tenant_keys.get(tenant_id, [])]
        return JSONResponse({"keys": [*self.jwks()["keys"], *extra]})

    async def _hang(self) -> None:
        # The event is set from the test's thread, so wait for it on a worker thread of our own.
        await asyncio.to_thread(self._released.wait, _MAX_HANG_SECONDS)


@contextmanager
def served_flaky_entra() -> Iterator[FlakyEntra]:
    """A `FlakyEntra` served on loopback; hanging requests are released before it stops."""
    entra = FlakyEntra()
    with served_entra(entra):
        try:
            yield entra
        finally:
            entra.release_hanging_requests()
