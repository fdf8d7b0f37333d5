"""Signing in for real: the sandbox's loopback Entra, served by the benchmark process, and a token
for the dashboard organization's Global admin (`wids` Global Administrator), as `incentives demo`
mints them. incentives validates it (discovery, JWKS, signature, claims) like any Entra token.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from auth.principal import GLOBAL_ADMINISTRATOR_WID
from bench.api.dataset import Viewer
from sandbox.entra import LoopbackEntra, LoopbackEntraServer

API_CLIENT_ID = "5e1f0c2a-7b3d-4c8e-9a6f-0b1c2d3e4f5a"
OPERATOR_TENANT_ID = "6f2a1b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b"
TOKEN_LIFETIME = timedelta(hours=6)


@dataclass(frozen=True)
class SignIn:
    authority_host: str
    token: str

    def environment(self) -> dict[str, str]:
        """What `incentives serve` needs to trust the loopback Entra (besides DATABASE_URL)."""
        return {
            "AZURE_CLIENT_ID": API_CLIENT_ID,
            "AZURE_TENANT_ID": OPERATOR_TENANT_ID,
            "AZURE_AUTHORITY_HOST": self.authority_host,
        }


def mint_for(entra: LoopbackEntra, viewer: Viewer) -> str:
    return entra.mint(
        tenant_id=viewer.tenant_id,
        object_id=viewer.object_id,
        audience=API_CLIENT_ID,
        wids=[GLOBAL_ADMINISTRATOR_WID],
        name=viewer.name,
        email=viewer.email,
        lifetime=TOKEN_LIFETIME,
    )


@contextmanager
def signed_in(viewer: Viewer) -> Iterator[SignIn]:
    """The loopback Entra on 127.0.0.1 (a background thread) for the block, and the viewer's token."""
    entra = LoopbackEntra()
    with LoopbackEntraServer(entra) as server:
        yield SignIn(server.base_url, mint_for(entra, viewer))
