"""Get Started (rule 22) in a real Chromium: the invitation email, delivered over SMTP by the demo's
outbox to aiosmtpd, is followed to the console before sign-in; signing in keeps the link, and the
Incentives admin lands on the enrollment form with the invitation's location and program chosen."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Demo, start_demo
from tests.support.get_started import delivered_link
from tests.support.smtp import SmtpSink, started_sink

pytestmark = pytest.mark.e2e

MALMO, CSP = "Contoso Malmö", "Cloud Solution Provider"
SHOWN = {"VALIDATING_ENROLLMENT": "Validating enrollment", "ACTION_REQUIRED": "Action required"}


@pytest.fixture(scope="module")
def mail() -> Iterator[SmtpSink]:
    with started_sink() as sink:
        yield sink


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo")


@pytest.fixture(scope="module")
def demo(browser: Any, spa_server: str, mail: SmtpSink, directory: Path) -> Iterator[Demo]:
    """The demo delivering its outbox to `mail` (this module's sign_in signs in to it)."""
    yield from start_demo(
        directory,
        spa_server,
        INCENTIVES_SMTP_HOST="127.0.0.1",
        INCENTIVES_SMTP_PORT=str(mail.port),
    )


def shown_status(demo: Demo, token: str) -> str:
    """What the API says of Malmö's CSP enrollment, for the Incentives admin."""
    query = """{ viewer { organization { locations(first: 10) { edges { node { name
      enrollments(first: 10) { edges { node { status program { name } } } } } } } } } }"""
    answer = httpx.post(
        f"{demo.url}/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
    )
    for location in answer.json()["data"]["viewer"]["organization"]["locations"]["edges"]:
        for enrollment in location["node"]["enrollments"]["edges"]:
            if location["node"]["name"] == MALMO and enrollment["node"]["program"]["name"] == CSP:
                return str(enrollment["node"]["status"])
    raise AssertionError(answer.text)


def test_get_started_from_a_delivered_email_signs_in_and_submits_the_enrollment(
    sign_in: Any, demo: Demo, mail: SmtpSink
) -> None:
    link = delivered_link(mail, MALMO, CSP)
    assert link.startswith(f"{demo.url}/console/invitations/")  # the demo's own port

    before = httpx.get(link)  # the page itself, before any sign-in
    assert before.status_code == 200
    assert before.headers["content-type"].startswith("text/html")

    maja = sign_in("Maja Berg", at=link)
    number = link.rsplit("/", 1)[1]
    assert maja.page.url.endswith(f"/console/#/invitations/{number}")  # the deep link kept
    form = maja.page.locator("#enroll-form")
    expect(form.get_by_label("Location")).to_have_value(re.compile(".+"))
    assert form.get_by_label("Location").locator("option:checked").inner_text().startswith(MALMO)
    assert form.get_by_label("Program").locator("option:checked").inner_text() == CSP
    assert maja.accessibility_violations() == []
    form.get_by_label("Payment profiles").select_option(label="Contoso main account (SEK)")
    form.get_by_role("button", name="Submit enrollment").click()

    maja.page.wait_for_url("**/console/#/incentives")
    row = maja.page.locator("section[aria-label='Cloud Solution Provider'] tr", has_text=MALMO)
    expect(row).to_be_visible()
    status = shown_status(demo, demo.tokens["incentives_admin"])
    # The console shows what the API says (without a tax profile for Malmö, it waits for one).
    expect(row).to_contain_text(SHOWN[status])


def test_anyone_else_sees_who_can_enroll_the_invitation(sign_in: Any, demo: Demo, mail: SmtpSink) -> None:
    link = delivered_link(mail, MALMO, CSP)
    lars = sign_in("Lars Nilsson", at=link)  # an Incentives user: may see it, may not enroll
    section = lars.page.locator("#who-can-enroll")
    expect(section).to_contain_text("Maja Berg")
    expect(lars.page.locator("#enroll-form")).to_have_count(0)
    assert lars.accessibility_violations() == []


def test_with_no_incentives_admin_the_global_admin_is_asked_to_assign_one(
    sign_in: Any, mail: SmtpSink
) -> None:
    link = delivered_link(mail, "Contoso Distribution Göteborg", CSP)  # no Incentives admin covers it
    astrid = sign_in("Astrid Lindqvist", at=link)
    expect(astrid.page.locator("#no-admin")).to_contain_text(
        "A Global admin or an Account admin must assign one"
    )
    expect(astrid.page.locator("#enroll-form")).to_have_count(0)


def test_an_organization_not_migrated_sees_the_migration_step_first(
    sign_in: Any, mail: SmtpSink, directory: Path
) -> None:
    link = delivered_link(mail, MALMO, CSP)
    with sqlite3.connect(directory / "demo-data" / "demo.db") as database:  # as if never migrated
        database.execute("UPDATE organizations SET migration_completed = 0 WHERE legal_name = 'Contoso Ltd'")

    lars = sign_in("Lars Nilsson", at=link)  # an Incentives user may not complete it (rule 19)
    step = lars.page.locator("#migration-step")
    expect(step).to_contain_text("must complete it before anyone can enroll")
    expect(step.get_by_role("button")).to_have_count(0)
    assert lars.accessibility_violations() == []

    maja = sign_in("Maja Berg", at=link)
    expect(maja.page.locator("#enroll-form")).to_have_count(0)
    maja.page.locator("#migration-step").get_by_role("button", name="Complete migration").click()
    # Migrated: the invitation goes on to its enrollment form, location and program chosen.
    form = maja.page.locator("#enroll-form")
    expect(form.get_by_label("Program").locator("option:checked")).to_have_text(CSP)
    assert form.get_by_label("Location").locator("option:checked").inner_text().startswith(MALMO)
