"""The console's longer journeys, on a demo of their own: mail that cannot be delivered (a closed
SMTP port, one attempt), and lists longer than a page.

- The operator records agreements and the designation, invites, and sends dead letters again.
- An ACTION_REQUIRED enrollment is completed with a payment profile from Home.
- 52 locations and 12 enrollments at one location are read a page at a time.
- The audit log says who changed what by name."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.api.client import document
from tests.browser.conftest import Demo, start_demo
from tests.support.ports import free_port

pytestmark = pytest.mark.e2e

Json = dict[str, Any]


@pytest.fixture(scope="module")
def demo(browser: Any, spa_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo with a mail server that refuses every connection: each email dies at its first try."""
    yield from start_demo(
        tmp_path_factory.mktemp("demo-operations"),
        spa_server,
        INCENTIVES_SMTP_HOST="127.0.0.1",
        INCENTIVES_SMTP_PORT=str(free_port()),  # nothing listens there
        INCENTIVES_MAIL_MAX_ATTEMPTS="1",
    )


def graphql(demo: Demo, who: str, query: str, variables: Json | None = None) -> Json:
    """The API's data for `query` sent with the demo's token of `who` (no errors allowed)."""
    response = httpx.post(
        f"{demo.url}/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {demo.tokens[who]}"},
        timeout=30,
    )
    answer: Json = response.json()
    assert "errors" not in answer, answer
    return answer["data"]  # type: ignore[no-any-return]


def mutate(demo: Demo, who: str, name: str, input: Json, selection: str = "") -> Json:
    payload: Json = graphql(demo, who, document(name, selection), {"input": input})[name]
    assert payload["userErrors"] == [], payload
    return payload


@pytest.fixture(scope="module")
def crowded(demo: Demo) -> None:
    """Fabrikam with 52 locations and 101 role assignments, and 11 more programs (no criteria) to
    which every location is invited: Fabrikam Lyon has 12 enrollments (Co-op and the 11, INVITED)."""
    for number in range(1, 12):
        program = mutate(
            demo,
            "operator",
            "createProgram",
            {"code": f"EXTRA-{number:02}", "name": f"Extra program {number:02}", "criteria": []},
            "program { id }",
        )["program"]["id"]
        mutate(demo, "operator", "issueInvitations", {"programId": program}, "invitationsCreated")
    for number in range(1, 51):
        site = {"name": f"Fabrikam Site {number:02}", "country": "FR", "partnerType": "DIRECT_RESELLER"}
        mutate(demo, "fabrikam_global_admin", "addLocation", site, "location { id }")
    for number in range(1, 102):
        person = {
            "userObjectId": str(uuid.UUID(int=number)),
            "displayName": f"Agent {number:03}",
            "role": "INCENTIVES_USER",
        }
        mutate(demo, "fabrikam_global_admin", "assignRole", person, "roleAssignment { id }")


def test_long_lists_are_read_a_page_at_a_time(sign_in: Any, crowded: None) -> None:
    camille = sign_in("Camille Martin")
    camille.open("Incentives")
    locations = camille.page.locator("#locations")
    expect(locations.locator("caption")).to_have_text("50 of 52 locations")
    assert "Fabrikam Site 50" not in locations.inner_text()
    camille.page.get_by_role("button", name="Show more locations").click()
    expect(locations.locator("caption")).to_have_text("52 of 52 locations")
    expect(locations).to_contain_text("Fabrikam Site 50")
    # Focus is on the first location read, for keyboard and screen-reader users.
    assert camille.page.evaluate("document.activeElement.innerText").startswith("Fabrikam Site 49")
    assert camille.page.get_by_role("button", name="Show more locations").count() == 0

    lyon = locations.locator("tr", has_text="Fabrikam Lyon")
    assert lyon.locator("td").nth(1).locator("div").count() == 10
    # The service away for one press: said at the top of the page; the next press reads the page.
    camille.page.route("**/graphql", lambda route: route.abort(), times=1)
    lyon.get_by_role("button", name="Show more enrollments of Fabrikam Lyon").click()
    expect(camille.page.locator("#failure")).to_contain_text("The service did not answer")
    assert lyon.locator("td").nth(1).locator("div").count() == 10
    lyon.get_by_role("button", name="Show more enrollments of Fabrikam Lyon").click()
    expect(lyon.locator("td").nth(1).locator("div")).to_have_count(12)
    assert "EXTRA-11" in lyon.inner_text()
    assert lyon.get_by_role("button").count() == 0
    assert camille.accessibility_violations() == []

    camille.open("Users")
    assignments = camille.page.locator("#role-assignments")
    expect(assignments.locator("caption")).to_have_text("101 role assignments")
    expect(assignments.locator("tbody tr")).to_have_count(100)
    camille.page.get_by_role("button", name="Show more role assignments").click()
    expect(assignments.locator("tbody tr")).to_have_count(101)
    assert "Agent 101" in assignments.locator("tbody tr").last.inner_text()


def test_the_operator_records_agreements_and_the_designation_and_invites(sign_in: Any) -> None:
    maja = sign_in("Maja Berg")  # on Home, where her notices arrive live
    olivia = sign_in("Olivia Okafor")
    olivia.open("Operations")
    reseller = olivia.page.get_by_label("Reseller agreement of Fabrikam SARL")
    designation = olivia.page.get_by_label("Solutions Partner designation of Fabrikam SARL")
    expect(reseller).to_be_checked()  # the sample data's
    expect(designation).not_to_be_checked()
    for change in (designation.check, reseller.uncheck):  # each saved as it changes
        with olivia.page.expect_response(lambda response: response.url.endswith("/graphql")):
            change()
        expect(olivia.page.locator("#live")).to_have_text("Saved for Fabrikam SARL.")
    olivia.page.reload()
    olivia.page.wait_for_selector("body[data-ready]", state="attached")
    olivia.page.wait_for_selector("#organizations")
    expect(olivia.page.get_by_label("Solutions Partner designation of Fabrikam SARL")).to_be_checked()
    expect(olivia.page.get_by_label("Reseller agreement of Fabrikam SARL")).not_to_be_checked()

    # A new program: a code already taken is refused at its field; then it is created.
    program = olivia.page.locator("#program-form")
    program.get_by_label("Code").fill("CO-OP")
    program.get_by_label("Name").fill("Surface devices")
    program.get_by_label("Reseller agreement").check()
    program.get_by_role("button", name="Create program").click()
    expect(program.locator("#program-code")).to_have_attribute("aria-invalid", "true")
    expect(program.locator("#program-code-error")).not_to_be_empty()
    program.get_by_label("Code").fill("SURFACE")
    program.get_by_role("button", name="Create program").click()
    row = olivia.page.locator("#programs tr", has_text="Surface devices (SURFACE)")
    expect(row).to_contain_text("Reseller agreement")
    expect(row).to_contain_text("Active")

    # Rule 24: a program with criteria invites every eligible location by itself (the server's
    # invitation worker, every few seconds): the Incentives admin's notice arrives without a reload,
    # and the operator's batch then finds nobody left to invite.
    form = olivia.page.locator("#invite-form")
    form.get_by_label("Program").select_option(label="Surface devices")
    this_year = form.get_by_label("Fiscal year").locator("option").nth(0).inner_text()
    year = this_year.split()[-1]
    notice = f"Contoso Stockholm (1000002) is invited to Surface devices for fiscal year {year}."
    expect(maja.page.locator("#notice-list")).to_contain_text(notice, timeout=60_000)
    assert maja.page.evaluate("performance.getEntriesByType('navigation').length") == 1
    form.get_by_label("Fiscal year").select_option(label=this_year)
    form.get_by_role("button", name="Issue invitations").click()
    result = olivia.page.locator("#invite-result")
    expect(result).to_have_text("0 invitations issued.")

    # Discontinued, once confirmed.
    olivia.page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Discontinue Surface devices").click()
    expect(row).to_contain_text("Discontinued")
    assert row.get_by_role("button").count() == 0
    assert olivia.accessibility_violations() == []
    olivia.screenshot("operations-organizations", around="section[aria-labelledby=organizations-title]")

    # Fabrikam's Global admin reads it in the audit log, in words.
    camille = sign_in("Camille Martin")
    camille.open("Audit log")
    log = camille.page.locator("#audit-log")
    row = log.locator("tr", has_text="Changed the Solutions Partner designation").first
    expect(row).to_contain_text("Fabrikam SARL")
    expect(row).to_contain_text("Unnamed")  # operators are not people of the organization
    # Older events, 50 at a time: her own locations, added before the role assignments.
    added = log.locator("tr", has_text="Added a location").first
    while added.count() == 0:
        shown = log.locator("tbody tr").count()
        camille.page.get_by_role("button", name="Show older events").click()
        expect(log.locator("tbody tr")).to_have_count(shown + 50)
    expect(added).to_contain_text("Camille Martin")
    expect(added).to_contain_text("Fabrikam")
    assert camille.accessibility_violations() == []


def test_the_operator_sends_dead_letters_again(demo: Demo, sign_in: Any) -> None:
    deadline = time.monotonic() + 30
    while graphql(demo, "operator", "{ mailQueue { dead } }")["mailQueue"]["dead"] == 0:
        assert time.monotonic() < deadline, "no email died against the closed port"
        time.sleep(0.5)
    olivia = sign_in("Olivia Okafor")
    olivia.open("Operations")
    form = olivia.page.locator("#requeue-form")
    form.get_by_role("button", name="Send the selected letters again").click()
    expect(form.locator(".form-error")).to_have_text("Select at least one letter.")
    letters = form.locator("tbody tr").count()
    assert letters > 0
    olivia.screenshot("operations-mail", around="#mail")
    form.get_by_label("Select every dead letter").check()
    form.get_by_role("button", name="Send the selected letters again").click()
    expect(olivia.page.locator("#requeue-result")).to_have_text(f"{letters} letters will be sent again.")


def test_an_action_required_enrollment_is_completed_from_home(sign_in: Any) -> None:
    olivia = sign_in("Olivia Okafor")  # on Operations, whose review queue follows live
    olivia.open("Operations")
    maja = sign_in("Maja Berg")
    maja.open("Incentives")
    form = maja.page.locator("#enroll-form")
    form.get_by_label("Location").select_option(label="Contoso Malmö (1000004)")
    expect(form.locator("#tax-status")).to_have_text(
        "No tax profile yet: the enrollment will wait for one. Payout and tax"
    )
    form.get_by_label("Location").select_option(label="Contoso Stockholm (1000002)")
    expect(form.locator("#tax-status")).to_contain_text("Tax profile SE556677889901, valid until")
    form.get_by_label("Program").select_option(label="Co-op marketing funds")
    form.get_by_role("button", name="Submit enrollment").click()  # no payment profile chosen
    section = maja.page.locator(
        "section[aria-label='Co-op marketing funds'] tr", has_text="Contoso Stockholm"
    )
    section.get_by_text("Action required").wait_for()

    maja.open("Home")
    action = maja.page.locator(
        "#actions ~ ul li, section[aria-labelledby=actions] li", has_text="Co-op marketing funds"
    )
    expect(action).to_contain_text("Contoso Stockholm")
    action.get_by_label("Payment profile for Co-op marketing funds at Contoso Stockholm").select_option(
        label="Contoso main account (SEK)"
    )
    maja.screenshot("home-action")
    assert maja.accessibility_violations() == []
    action.get_by_role("button", name="Complete enrollment").click()
    expect(maja.page.locator("section[aria-labelledby=actions]")).not_to_contain_text("Co-op marketing funds")
    maja.open("Incentives")
    row = maja.page.locator("section[aria-label='Co-op marketing funds'] tr", has_text="Contoso Stockholm")
    expect(row).to_contain_text("Validating enrollment")
    waiting = olivia.page.locator("#review-queue tr", has_text="Contoso Stockholm")
    expect(waiting).to_contain_text("Co-op marketing funds")  # arrived without a reload
    assert olivia.page.evaluate("performance.getEntriesByType('navigation').length") == 1
