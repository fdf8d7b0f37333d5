"""The emails' words (invitations, tax expiry reminders) in the languages we ship (English, French,
Swedish), and which language an organization's country suggests.

The country alone decides, so only countries where one shipped language is clearly the partner's
working language get it; everywhere else, English:

- French: France and its overseas departments and collectivities, Monaco, Luxembourg (French is
  the language of its administration and business correspondence), and the countries where
  French is the sole official language. Not Belgium (most partners there work in Dutch),
  Switzerland (mostly German) or Canada (mostly English; Québec is a province, not a country).
- Swedish: Sweden and Åland (Swedish is Åland's only official language). Not Finland, where
  Swedish speakers are a minority.
"""

from __future__ import annotations

from dataclasses import dataclass

ENGLISH = "en"


@dataclass(frozen=True)
class ReminderTexts:
    """A tax expiry reminder's words; the body takes `{location}`, `{partner_id}` and `{expires_on}`."""

    subject: str
    body: str
    update: str


@dataclass(frozen=True)
class Texts:
    """One language's words; the invitation bodies take `{location}`, `{partner_id}` and `{program}`."""

    subject: str
    invited: str
    needs_admin: str
    get_started: str
    signature: str
    tax_reminder: ReminderTexts


TEXTS: dict[str, Texts] = {
    ENGLISH: Texts(
        subject="Partner Incentive Enrollment Invitation",
        invited=(
            "Your location {location} (PartnerID {partner_id}) is invited to enroll in the {program} "
            "incentive program."
        ),
        needs_admin=(
            "Your location {location} (PartnerID {partner_id}) is invited to enroll in the {program} "
            "incentive program, but it has no Incentives administrator. Please assign an Incentives "
            "admin for this location and program."
        ),
        get_started="Get Started",
        signature="Microsoft Partner Center",
        tax_reminder=ReminderTexts(
            subject="Your tax profile expires soon",
            body=(
                "The tax profile of your location {location} (PartnerID {partner_id}) expires on "
                "{expires_on}. Set a new tax profile before then: once it has expired, the location's "
                "enrollments need action and earnings may be held."
            ),
            update="Update the tax profile",
        ),
    ),
    "fr": Texts(
        subject="Invitation à l'inscription au programme d'incitations partenaires",
        invited=(
            "Votre emplacement {location} (PartnerID {partner_id}) est invité à s'inscrire au "
            "programme d'incitations {program}."
        ),
        needs_admin=(
            "Votre emplacement {location} (PartnerID {partner_id}) est invité à s'inscrire au "
            "programme d'incitations {program}, mais il n'a pas d'administrateur des incitations. "
            "Veuillez désigner un administrateur des incitations pour cet emplacement et ce programme."
        ),
        get_started="Commencer",
        signature="Espace partenaires Microsoft",
        tax_reminder=ReminderTexts(
            subject="Votre profil fiscal expire bientôt",
            body=(
                "Le profil fiscal de votre emplacement {location} (PartnerID {partner_id}) expire le "
                "{expires_on}. Définissez un nouveau profil fiscal avant cette date : une fois expiré, "
                "les inscriptions de l'emplacement nécessiteront une action et les gains pourront "
                "être retenus."
            ),
            update="Mettre à jour le profil fiscal",
        ),
    ),
    "sv": Texts(
        subject="Inbjudan till registrering i partnerincitamentsprogram",
        invited=(
            "Er plats {location} (PartnerID {partner_id}) är inbjuden att registrera sig i "
            "incitamentsprogrammet {program}."
        ),
        needs_admin=(
            "Er plats {location} (PartnerID {partner_id}) är inbjuden att registrera sig i "
            "incitamentsprogrammet {program}, men den har ingen incitamentsadministratör. Tilldela "
            "en incitamentsadministratör för den här platsen och programmet."
        ),
        get_started="Kom igång",
        signature="Microsoft Partnercenter",
        tax_reminder=ReminderTexts(
            subject="Er skatteprofil löper snart ut",
            body=(
                "Skatteprofilen för er plats {location} (PartnerID {partner_id}) löper ut den "
                "{expires_on}. Ange en ny skatteprofil innan dess: när den har löpt ut behöver platsens "
                "registreringar åtgärdas och intäkter kan hållas inne."
            ),
            update="Uppdatera skatteprofilen",
        ),
    ),
}

_FRENCH_OVERSEAS = ("GF", "GP", "MQ", "RE", "YT", "PM", "BL", "MF", "NC", "PF", "WF", "TF")
_FRENCH_ONLY_OFFICIAL = ("BJ", "BF", "CD", "CG", "CI", "GA", "GN", "ML", "NE", "SN", "TG")

LANGUAGE_BY_COUNTRY: dict[str, str] = {
    **dict.fromkeys(("FR", "MC", "LU", *_FRENCH_OVERSEAS, *_FRENCH_ONLY_OFFICIAL), "fr"),
    **dict.fromkeys(("SE", "AX"), "sv"),
}


def language_for_country(country: str | None) -> str:
    """The language to write to an organization of `country` (ISO 3166-1 alpha-2): `"fr"` for FR."""
    return LANGUAGE_BY_COUNTRY.get((country or "").upper(), ENGLISH)


def texts_for(language: str) -> Texts:
    return TEXTS.get(language, TEXTS[ENGLISH])
