"""Browser behaviour in a real Chromium against `incentives demo`: a single-page app on an allowed
origin queries and subscribes, one on another origin is refused (CORS, websocket Origin), and
GraphiQL works with no internet, signed in by its sample-user picker."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Demo, Offline, offline_page
from tests.e2e.harness import GraphQL

pytestmark = pytest.mark.e2e

VIEWER = "{ viewer { displayName organization { legalName } } }"
INVITATIONS = "subscription { invitationReceived { program { code } location { name } } }"


def _spa(browser: Any, origin: str, demo: Demo, person: str, offline: Offline) -> Any:
    page = offline_page(browser, offline)
    page.goto(f"{origin}/spa.html#api={demo.url}&token={demo.tokens[person]}")
    return page


def test_a_single_page_app_on_an_allowed_origin_queries_and_subscribes(browser: Any, demo: Demo) -> None:
    offline = Offline()
    page = _spa(browser, demo.spa_origin, demo, "global_admin", offline)
    answer = page.evaluate("query => window.query(query)", VIEWER)
    assert answer["status"] == 200
    assert answer["body"]["data"]["viewer"]["organization"] == {"legalName": "Contoso Ltd"}

    assert page.evaluate("query => window.subscribe(query)", INVITATIONS) == "subscribed"
    time.sleep(0.5)  # the server registers the subscription after the message
    _issue_invitations_for_a_new_program(demo)
    page.wait_for_function("window.events.length > 0", timeout=15_000)
    (event,) = page.evaluate("window.events")[:1]
    assert event["data"]["invitationReceived"]["program"]["code"] == "BROWSER"
    assert offline.refused == []


def test_a_page_on_another_origin_is_refused(browser: Any, demo: Demo, stranger_server: str) -> None:
    offline = Offline()
    page = _spa(browser, stranger_server, demo, "global_admin", offline)
    fetched = page.evaluate(
        "query => window.query(query).then(() => 'answered', error => error.name + ': ' + error.message)",
        VIEWER,
    )
    subscribed = page.evaluate(
        "query => window.subscribe(query).then(() => 'subscribed', error => error.message)", INVITATIONS
    )
    assert fetched == "TypeError: Failed to fetch"  # no Access-Control-Allow-Origin for it
    assert subscribed.startswith("closed before it was acknowledged")
    assert offline.refused == []


def test_graphiql_works_offline_signed_in_by_the_sample_user_picker(
    browser: Any, demo: Demo, tmp_path: Path
) -> None:
    offline = Offline()
    page = offline_page(browser, offline)
    page.goto(f"{demo.url}/graphql")
    page.wait_for_selector(".graphiql-container .graphiql-editor", timeout=20_000)
    page.wait_for_selector("#picker:not([hidden])")
    page.select_option(
        "#persona", label="Incentives admin (Contoso Stockholm and Malmö): Maja Berg <maja@contoso.example>"
    )
    page.wait_for_function("document.getElementById('signed-in').textContent.startsWith('Signed in')")
    page.wait_for_timeout(500)  # the schema is fetched for the new sign-in
    page.click(".graphiql-execute-button")
    page.wait_for_function(
        "document.querySelector('.result-window')?.innerText.includes('Contoso Ltd')", timeout=15_000
    )
    page.screenshot(path=str(tmp_path / "graphiql-offline.png"))

    assert offline.refused == [], "GraphiQL asked for something beyond this machine"
    stored = page.evaluate("JSON.stringify({...window.localStorage, ...window.sessionStorage})")
    assert demo.tokens["incentives_admin"] not in stored
    assert "Bearer" not in stored
    assert "Authorization" not in stored


def _issue_invitations_for_a_new_program(demo: Demo) -> None:
    api = GraphQL(demo.url)
    operator = demo.tokens["operator"]
    try:
        created = api.mutate(
            operator,
            "createProgram",
            "program { id }",
            code="BROWSER",
            name="Browser",
            criteria=["RESELLER_AGREEMENT"],
        )
        program_id = created["program"]["id"]
        issued = api.mutate(operator, "issueInvitations", "invitationsCreated", programId=program_id)
        assert issued["invitationsCreated"] >= 1
    finally:
        api.close()
