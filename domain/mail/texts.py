"""The emails' words (invitations, tax expiry reminders, review outcomes) in the languages we ship
(English, French, Swedish), and which language an organization's country suggests.

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
class ReviewTexts:
    """A review outcome's words; the bodies take `{location}`, `{partner_id}` and `{program}`, the
    sent-back one also `{reason}`."""

    enrolled_subject: str
    enrolled: str
    action_required_subject: str
    action_required: str
    open_console: str


@dataclass(frozen=True)
class Texts:
    """One language's words; the invitation bodies take `{location}`, `{partner_id}` and `{program}`.

    `needs_admin` is only for an invitation no Incentives admin covers; `admins_without_address` for
    one that some cover, none of them with an address (rule 26).
    """

    subject: str
    invited: str
    needs_admin: str
    admins_without_address: str
    migration_first: str
    get_started: str
    signature: str
    tax_reminder: ReminderTexts
    review: ReviewTexts


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
        admins_without_address=(
            "Your location {location} (PartnerID {partner_id}) is invited to enroll in the {program} "
            "incentive program. It has Incentives administrators, but none of them has an email "
            "address known to Partner Center, so they were not emailed. Please tell them, or add "
            "their email address."
        ),
        migration_first=(
            "Your organization has not completed its migration to Partner Center yet: complete the "
            "migration first, then enroll."
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
        review=ReviewTexts(
            enrolled_subject="Your incentive enrollment is approved",
            enrolled=(
                "The enrollment of your location {location} (PartnerID {partner_id}) in the {program} "
                "incentive program is approved: the location is enrolled."
            ),
            action_required_subject="Your incentive enrollment needs action",
            action_required=(
                "The enrollment of your location {location} (PartnerID {partner_id}) in the {program} "
                "incentive program needs action: {reason}"
            ),
            open_console="Open Partner Center",
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
        admins_without_address=(
            "Votre emplacement {location} (PartnerID {partner_id}) est invité à s'inscrire au "
            "programme d'incitations {program}. Il a des administrateurs des incitations, mais aucun "
            "n'a d'adresse e-mail connue de l'Espace partenaires : ils n'ont pas reçu d'e-mail. "
            "Prévenez-les, ou ajoutez leur adresse e-mail."
        ),
        migration_first=(
            "Votre organisation n'a pas encore terminé sa migration vers l'Espace partenaires : "
            "terminez d'abord la migration, puis inscrivez-vous."
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
        review=ReviewTexts(
            enrolled_subject="Votre inscription au programme d'incitations est approuvée",
            enrolled=(
                "L'inscription de votre emplacement {location} (PartnerID {partner_id}) au programme "
                "d'incitations {program} est approuvée : l'emplacement est inscrit."
            ),
            action_required_subject="Votre inscription au programme d'incitations nécessite une action",
            action_required=(
                "L'inscription de votre emplacement {location} (PartnerID {partner_id}) au programme "
                "d'incitations {program} nécessite une action : {reason}"
            ),
            open_console="Ouvrir l'Espace partenaires",
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
        admins_without_address=(
            "Er plats {location} (PartnerID {partner_id}) är inbjuden att registrera sig i "
            "incitamentsprogrammet {program}. Den har incitamentsadministratörer, men ingen av dem "
            "har en e-postadress som Partnercenter känner till, så de har inte fått något e-postmeddelande. "
            "Meddela dem, eller lägg till deras e-postadress."
        ),
        migration_first=(
            "Er organisation har inte slutfört sin migrering till Partnercenter ännu: slutför "
            "migreringen först och registrera er sedan."
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
        review=ReviewTexts(
            enrolled_subject="Er registrering i incitamentsprogrammet är godkänd",
            enrolled=(
                "Registreringen av er plats {location} (PartnerID {partner_id}) i "
                "incitamentsprogrammet {program} är godkänd: platsen är registrerad."
            ),
            action_required_subject="Er registrering i incitamentsprogrammet behöver åtgärdas",
            action_required=(
                "Registreringen av er plats {location} (PartnerID {partner_id}) i "
                "incitamentsprogrammet {program} behöver åtgärdas: {reason}"
            ),
            open_console="Öppna Partnercenter",
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
