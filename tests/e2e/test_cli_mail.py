"""`incentives serve` with mail through Microsoft Graph, as an operator would misconfigure it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.harness import environment, incentives
from tests.support.databases import migrate
from tests.support.ports import free_port

pytestmark = pytest.mark.e2e


def test_serve_with_graph_mail_but_no_sender_refuses_to_start_and_names_it(tmp_path: Path) -> None:
    env = environment(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'mail.db'}",
        AZURE_CLIENT_ID="6db6ce92-6b0f-4f7b-91a6-4bb679e133e1",
        AZURE_TENANT_ID="9d5bb096-9669-4518-b772-59879f03e563",
        AZURE_CLIENT_SECRET="s3cret",
        INCENTIVES_MAIL_TRANSPORT="graph",
    )
    migrate(env["DATABASE_URL"])

    refused = incentives("serve", "--port", str(free_port()), env=env)

    assert refused.returncode == 2, refused.stderr
    assert "INCENTIVES_MAIL_SENDER_USER" in refused.stderr
    assert "AZURE_CLIENT_SECRET" not in refused.stderr
