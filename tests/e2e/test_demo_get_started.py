"""The demo shows the path (rule 22): its invitation emails, delivered over SMTP, link to the
console on the demo's own port, and the link answers the console's page."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import environment, running
from tests.support.get_started import delivered_link, delivered_links
from tests.support.ports import free_port
from tests.support.smtp import SmtpSink

pytestmark = pytest.mark.e2e


def test_the_demos_invitation_emails_link_to_its_console_on_its_port(
    tmp_path: Path, smtp_server: SmtpSink
) -> None:
    port = free_port()
    env = environment(INCENTIVES_SMTP_HOST="127.0.0.1", INCENTIVES_SMTP_PORT=str(smtp_server.port))
    with running("demo", "--port", str(port), env=env, log=tmp_path / "demo.log", cwd=tmp_path) as demo:
        demo.wait_for(lambda: "Press Ctrl+C to stop." in demo.output(), "printed tokens")
        link = delivered_link(smtp_server, "Contoso Malmö", "Cloud Solution Provider")
        assert link.startswith(f"http://127.0.0.1:{port}/"), link
        page = httpx.get(link)

        # Every one of them, also those the sample agreements sent as they made locations eligible.
        links = [found for _, found in delivered_links(smtp_server)]
        assert len(links) >= 3, links
        assert all(found.startswith(f"http://127.0.0.1:{port}/console/invitations/") for found in links), (
            links
        )
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "content-security-policy" in page.headers
