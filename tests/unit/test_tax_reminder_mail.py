from __future__ import annotations

from datetime import date

import pytest

from domain.mail.messages import REMINDER_SUBJECT as SUBJECT
from domain.mail.messages import Reminded, reminder_email
from domain.mail.texts import TEXTS

REMINDED = Reminded(
    tax_profile_id=7, location_name="Contoso <Lyon>", partner_id="1000042", expires_on=date(2025, 7, 1)
)


def test_the_english_reminder_keeps_its_subject_and_wording() -> None:
    email = reminder_email(REMINDED, "ines@contoso.example", 0, public_url="https://pc.example/")
    assert (email.subject, email.language) == (SUBJECT, "en") == ("Your tax profile expires soon", "en")
    assert email.body_text == (
        "The tax profile of your location Contoso <Lyon> (PartnerID 1000042) expires on 2025-07-01. "
        "Set a new tax profile before then: once it has expired, the location's enrollments need action "
        "and earnings may be held.\n\n"
        "Update the tax profile: https://pc.example/incentives/payout-and-tax\n\n"
        "Microsoft Partner Center\n"
    )
    assert email.body_html.startswith('<html lang="en">')


def test_a_french_reminder_is_french_throughout() -> None:
    email = reminder_email(REMINDED, "a@contoso.example", 0, public_url="http://x", language="fr")
    assert email.subject == "Votre profil fiscal expire bientôt"
    assert "Le profil fiscal de votre emplacement Contoso <Lyon> (PartnerID 1000042)" in email.body_text
    assert "Mettre à jour le profil fiscal: http://x/incentives/payout-and-tax" in email.body_text
    assert email.body_text.endswith("Espace partenaires Microsoft\n")
    assert email.body_html.startswith('<html lang="fr">')


def test_a_swedish_reminder_is_swedish_throughout() -> None:
    email = reminder_email(REMINDED, "a@contoso.example", 0, public_url="http://x", language="sv")
    assert email.subject == "Er skatteprofil löper snart ut"
    assert "löper ut den 2025-07-01" in email.body_text
    assert ">Uppdatera skatteprofilen</a>" in email.body_html
    assert email.body_html.startswith('<html lang="sv">')


@pytest.mark.parametrize("language", ["en", "fr", "sv"])
def test_every_language_names_the_location_its_partner_id_and_the_iso_expiry_date(language: str) -> None:
    email = reminder_email(REMINDED, "a@contoso.example", 0, public_url="http://x", language=language)
    for body in (email.body_text, email.body_html):
        assert "1000042" in body
        assert "2025-07-01" in body
        assert "http://x/incentives/payout-and-tax" in body
    assert "Contoso <Lyon>" in email.body_text
    assert "Contoso &lt;Lyon&gt;" in email.body_html


def test_every_language_has_a_reminder_body_with_all_its_placeholders() -> None:
    for words in TEXTS.values():
        assert all(part in words.tax_reminder.body for part in ("{location}", "{partner_id}", "{expires_on}"))


def test_message_ids_are_stable_and_differ_per_recipient() -> None:
    first = reminder_email(REMINDED, "a@contoso.example", 0, public_url="http://x")
    second = reminder_email(REMINDED, "b@contoso.example", 1, public_url="http://x", language="fr")
    assert (first.message_id, second.message_id) == (
        "<tax-expiry-7-0@incentives>",
        "<tax-expiry-7-1@incentives>",
    )
