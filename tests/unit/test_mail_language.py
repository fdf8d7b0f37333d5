from __future__ import annotations

import pytest

from domain.mail.messages import INVITATION_SUBJECT, Invited, assign_admin_email, invitation_email
from domain.mail.texts import TEXTS, language_for_country

INVITED = Invited(invitation_id=7, program_name="CSP", location_name="Contoso Lyon", partner_id="1000042")


@pytest.mark.parametrize(
    ("country", "language"),
    [("FR", "fr"), ("MC", "fr"), ("LU", "fr"), ("RE", "fr"), ("SE", "sv"), ("AX", "sv"), ("se", "sv")],
)
def test_countries_where_a_shipped_language_is_spoken_get_it(country: str, language: str) -> None:
    assert language_for_country(country) == language


@pytest.mark.parametrize("country", ["US", "GB", "DE", "BE", "CH", "CA", "FI", "", None])
def test_every_other_country_gets_english(country: str | None) -> None:
    assert language_for_country(country) == "en"


def test_a_french_invitation_is_french_throughout() -> None:
    email = invitation_email(INVITED, "a@contoso.example", 0, public_url="https://pc.example", language="fr")
    assert email.subject == (
        "Invitation à l'inscription au programme d'incitations partenaires "
        "(Partner Incentive Enrollment Invitation)"
    )
    assert "Votre emplacement Contoso Lyon (PartnerID 1000042)" in email.body_text
    assert "Commencer (Get Started): https://pc.example/console/invitations/7" in email.body_text
    assert email.body_html.startswith('<html lang="fr">')
    assert ">Commencer (Get Started)</a>" in email.body_html


def test_a_swedish_request_to_assign_an_admin_is_swedish() -> None:
    email = assign_admin_email(INVITED, "ga@contoso.example", 0, public_url="http://x", language="sv")
    assert email.subject == (
        "Inbjudan till registrering i partnerincitamentsprogram (Partner Incentive Enrollment Invitation)"
    )
    assert "Tilldela en incitamentsadministratör" in email.body_text
    assert "Kom igång" in email.body_text
    assert email.body_html.startswith('<html lang="sv">')


def test_english_is_the_default_and_keeps_the_contract_subject() -> None:
    email = invitation_email(INVITED, "a@contoso.example", 0, public_url="http://x")
    assert (email.subject, email.language) == (INVITATION_SUBJECT, "en")
    assert email.body_html.startswith('<html lang="en">')


def test_every_language_names_program_location_and_partner_id() -> None:
    for words in TEXTS.values():
        for body in (words.invited, words.needs_admin):
            assert all(part in body for part in ("{location}", "{partner_id}", "{program}"))


@pytest.mark.parametrize("language", ["en", "fr", "sv"])
def test_every_language_keeps_the_contract_subject_and_get_started_link(language: str) -> None:
    email = invitation_email(INVITED, "a@contoso.example", 0, public_url="http://x", language=language)
    assert INVITATION_SUBJECT in email.subject
    assert "Get Started" in email.body_text
    assert "Get Started" in email.body_html
