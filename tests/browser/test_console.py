"""The console (/console/ of `incentives demo`) in a real Chromium, persona by persona, signed in
through MSAL.js and the loopback sign-in page as a user does it: no token is pasted anywhere.

The page's Content-Security-Policy forbids evaluating strings, so waits are Playwright's locators.
Each journey starts from the demo's sample data and changes only what it owns, so the tests run
in any order. With INCENTIVES_SCREENSHOTS=<folder>, the journeys save the README's screenshots."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_the_incentives_admin_dismisses_a_notice_and_enrolls_and_sees_the_approval_live(sign_in: Any) -> None:
    maja = sign_in("Maja Berg")
    notice = "Contoso Malmö (1000004) is invited to Cloud Solution Provider"
    assert notice in maja.main_text()
    maja.screenshot("home")

    dismiss = "Dismiss the notice about Cloud Solution Provider for Contoso Malmö"
    maja.page.get_by_role("button", name=dismiss).click()
    expect(maja.page.locator("main")).not_to_contain_text("Malmö (1000004) is invited")
    maja.page.reload()
    maja.page.wait_for_selector("body[data-ready]", state="attached")
    assert notice not in maja.main_text()  # gone for her, after a reload too
    assert notice in sign_in("Astrid Lindqvist").main_text()  # still there for the Global admin

    # The tax profile: the API's userErrors appear at the field they name.
    maja.open("Payout and tax")
    form = maja.page.locator("#tax-form")
    form.get_by_label("Location").select_option(label="Contoso Malmö")
    form.get_by_label("Tax ID").fill("SE556677889902")
    form.get_by_label("Country (ISO code)").fill("XX")
    form.get_by_label("Expires on").fill("2020-01-01")
    form.get_by_role("button", name="Save tax profile").click()
    maja.page.wait_for_selector("#tax-form [aria-invalid=true]")
    invalid = maja.page.eval_on_selector_all("#tax-form [aria-invalid=true]", "els => els.map(e => e.name)")
    messages = maja.page.eval_on_selector_all("#tax-form .field-error", "els => els.map(e => e.innerText)")
    assert invalid, messages
    assert set(invalid) <= {"country", "expiresOn"}, (invalid, messages)
    assert any(messages), messages
    form.get_by_label("Country (ISO code)").fill("SE")
    form.get_by_label("Expires on").fill("2029-06-30")
    form.get_by_role("button", name="Save tax profile").click()
    expect(maja.page.locator("#tax-profiles")).to_contain_text("SE556677889902")
    maja.screenshot("profiles")

    # Eligibility, criterion by criterion, then the enrollment.
    maja.open("Incentives")
    form = maja.page.locator("#enroll-form")
    form.get_by_label("Location").select_option(label="Contoso Malmö (1000004)")
    expect(form.locator("#tax-status")).to_have_text("Tax profile SE556677889902, valid until June 30, 2029.")
    form.get_by_label("Program").select_option(label="Cloud Solution Provider")
    form.get_by_role("button", name="Check eligibility").click()
    maja.page.wait_for_selector("#eligibility li")
    eligibility = maja.page.inner_text("#eligibility")
    assert "Eligible" in eligibility
    assert "Reseller agreement: met" in eligibility
    form.get_by_label("Payment profiles").select_option(label="Contoso main account (SEK)")
    form.get_by_role("button", name="Submit enrollment").click()
    malmo = maja.page.locator("section[aria-label='Cloud Solution Provider'] tr", has_text="Contoso Malmö")
    malmo.get_by_text("Validating enrollment").wait_for()
    maja.screenshot("incentives")

    # The operator approves; Maja's page shows ENROLLED without a reload.
    olivia = sign_in("Olivia Okafor")
    olivia.open("Operations")
    olivia.screenshot("operations")
    olivia.page.get_by_role("button", name="Approve Cloud Solution Provider at Contoso Malmö").click()
    expect(olivia.page.locator("main")).not_to_contain_text("Contoso Malmö (1000004)")
    malmo.get_by_text("Enrolled").wait_for(timeout=15_000)
    assert maja.page.evaluate("performance.getEntriesByType('navigation').length") == 1  # no reload


def test_the_global_admin_assigns_an_incentives_admin_by_sign_in_name(sign_in: Any) -> None:
    astrid = sign_in("Astrid Lindqvist")
    astrid.open("Users")
    form = astrid.page.locator("#assign-form")
    form.get_by_label("Find people in your directory").fill("Nils")
    form.get_by_role("button", name="Search").click()
    form.get_by_role("button", name="Use Nils Ek").click()
    assert form.get_by_label("Sign-in name").input_value() == "nils@contoso.example"
    form.get_by_label("Role").select_option(label="Incentives admin")
    form.get_by_label("Contoso Malmö").check()
    form.get_by_label("Co-op marketing funds").check()
    form.get_by_role("button", name="Assign").click()
    row = astrid.page.locator("#role-assignments tr", has_text="Nils Ek")
    row.wait_for()
    assert "Incentives admin" in row.inner_text()
    assert "Locations: Contoso Malmö" in row.inner_text()
    assert "Programs: CO-OP" in row.inner_text()
    astrid.screenshot("users")

    # A name nobody in the tenant signs in with: the API's userError, at the field.
    form = astrid.page.locator("#assign-form")
    form.get_by_label("Sign-in name").fill("nobody@contoso.example")
    form.get_by_role("button", name="Assign").click()
    astrid.page.wait_for_selector("#userPrincipalName[aria-invalid=true]")
    assert astrid.page.inner_text("#userPrincipalName-error").strip()

    # Revoked here, then again from a second window still showing it: the refusal is said in its row.
    other = sign_in("Astrid Lindqvist")
    other.open("Users")
    revoke = "Revoke Incentives admin of Nils Ek"
    astrid.page.get_by_role("button", name=revoke).click()
    expect(astrid.page.locator("#role-assignments")).not_to_contain_text("Nils Ek")
    stale = other.page.locator("#role-assignments tr", has_text="Nils Ek")
    stale.get_by_role("button", name=revoke).click()
    expect(stale.locator(".form-error")).not_to_be_empty()


def test_an_incentives_user_cannot_see_bank_details(sign_in: Any) -> None:
    lars = sign_in("Lars Nilsson")
    lars.open("Payout and tax")
    profiles = lars.page.inner_text("#payment-profiles")
    assert "Contoso main account" in profiles
    assert "Hidden for your role" in profiles
    assert "7466" not in lars.page.content()  # the account's last digits, which admins see
    assert lars.page.locator("#payment-form").count() == 0  # and no form to add one
    assert "Users" not in lars.page.inner_text("nav")


def test_a_fabrikam_admin_sees_nothing_of_contoso(sign_in: Any) -> None:
    camille = sign_in("Camille Martin")
    seen = [camille.main_text()]
    for name in ("Incentives", "Payout and tax", "Users", "Audit log"):
        camille.open(name)
        seen.append(camille.main_text())
    text = "\n".join(seen)
    assert "Fabrikam SARL" in text
    assert "Fabrikam Paris" in text
    assert not re.search("contoso", text, re.IGNORECASE)


@pytest.mark.parametrize(
    ("locale", "home", "date"),
    [("fr-FR", "Accueil", "décembre"), ("sv-SE", "Start", "december"), ("en-GB", "Home", "December")],
)
def test_the_console_speaks_the_browsers_language(sign_in: Any, locale: str, home: str, date: str) -> None:
    astrid = sign_in("Astrid Lindqvist", locale=locale)
    nav = astrid.page.inner_text("nav")
    assert home in nav
    assert astrid.page.get_attribute("html", "lang") == locale[:2]
    astrid.page.locator("nav a").nth(2).click()  # Payout and tax, in any language
    astrid.page.wait_for_selector("#tax-profiles")
    stockholm = astrid.page.locator("#tax-profiles tr", has_text="Contoso Stockholm").inner_text()
    assert re.search(rf"\d{{1,2}}\.? {date} 20\d\d", stockholm), stockholm  # day month year, in words
    if locale == "fr-FR":
        astrid.screenshot("profiles-fr")


@pytest.mark.parametrize(
    ("person", "pages"),
    [
        ("Astrid Lindqvist", ("Home", "Incentives", "Payout and tax", "Users", "Audit log")),
        ("Olivia Okafor", ("Home", "Operations")),
    ],
)
def test_every_page_passes_axe_and_works_from_the_keyboard(
    sign_in: Any, person: str, pages: tuple[str, ...]
) -> None:
    console = sign_in(person)
    for name in pages:
        console.open(name)
        assert console.accessibility_violations() == [], name
    # Keyboard: the first Tab reaches the skip link, which moves focus to the page's content.
    console.page.reload()
    console.page.wait_for_selector("body[data-ready]", state="attached")
    console.page.keyboard.press("Tab")
    assert console.page.evaluate("document.activeElement.className") == "skip"
    console.page.keyboard.press("Enter")
    assert console.page.evaluate("document.activeElement.id") == "main"
