"""The console under INCENTIVES_TRUSTED_DOCUMENTS=enforce, as the README shows it: a partner's pages
and live events work, as the console names its operations by their trusted document id only, while
the same partner's own document is refused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.browser.conftest import Demo, start_demo

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def demo(browser: Any, spa_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    directory = tmp_path_factory.mktemp("demo-enforce")
    yield from start_demo(directory, spa_server, INCENTIVES_TRUSTED_DOCUMENTS="enforce")


def test_under_enforce_a_partner_uses_the_console_by_id_not_by_text(sign_in: Any, demo: Demo) -> None:
    config = httpx.get(f"{demo.url}/console/config.json", timeout=30).json()
    maja = sign_in("Maja Berg")
    assert "Contoso Malmö (1000004) is invited to Cloud Solution Provider" in maja.main_text()
    maja.open("Payout and tax")
    assert "Contoso main account" in maja.page.inner_text("#payment-profiles")
    maja.open("Incentives")

    assert {payload["documentId"] for payload in maja.sent} == {config["documentId"]}
    names = {payload["operationName"] for payload in maja.sent}
    assert {"ConsoleWorkspace", "ConsoleEnrollmentChanges"} <= names  # over HTTP and the websocket
    own = httpx.post(
        f"{demo.url}/graphql",
        json={"query": "{ viewer { displayName } }"},
        headers={"Authorization": f"Bearer {demo.tokens['incentives_admin']}"},
        timeout=30,
    ).json()
    assert [error["extensions"]["code"] for error in own["errors"]] == ["PERSISTED_QUERY_REQUIRED"]
