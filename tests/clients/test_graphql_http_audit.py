"""The GraphQL-over-HTTP audit (graphql-http's serverAudits, clients/audit.mjs) against the API served
over real HTTP with a real token: no MUST and no SHOULD may fail."""

from __future__ import annotations

import re
import shutil

import pytest

from tests.clients.paths import CLIENTS
from tests.clients.tools import NPM_CI, run
from tests.support import personas
from tests.support.entra import RunningEntra
from tests.support.server import ApiServer

SUMMARY = re.compile(r"audits: (\d+); ok (\d+), MAY not met (\d+), SHOULD failed (\d+), MUST failed (\d+)")
AUDITS_IN_THE_PACKAGE = 61  # graphql-http 1.23.1's serverAudits (clients/package.json pins it)


def test_the_graphql_over_http_audit_passes_every_must_and_should(
    api_server: ApiServer, entra: RunningEntra, monkeypatch: pytest.MonkeyPatch
) -> None:
    if shutil.which("node") is None or not (CLIENTS / "node_modules" / "graphql-http").exists():
        pytest.skip(f"graphql-http is not installed: run `{NPM_CI}` (needs Node.js)")
    # The audit introspects (`__type`): an operator may (strangers may not, README "Limits").
    token = personas.operator(entra).token
    monkeypatch.setenv("AUDIT_URL", f"{api_server.url}/graphql")
    monkeypatch.setenv("AUDIT_TOKEN", token)
    done = run("node", "audit.mjs")
    summary = SUMMARY.search(done.stdout)
    assert summary is not None, done.stdout + done.stderr
    print(summary.group(0))
    total, ok, _, should_failed, must_failed = (int(n) for n in summary.groups())
    assert (must_failed, should_failed) == (0, 0), done.stdout
    assert total == AUDITS_IN_THE_PACKAGE, "every audit ran"
    assert ok == total, done.stdout  # the MAYs too
    assert done.returncode == 0, done.stdout + done.stderr
