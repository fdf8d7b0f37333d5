"""The right people are told (rule 26) and review outcomes are emailed (rule 27): who each outbox
message goes to, and what it says."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from api.graphql.ids import to_global_id
from domain.access import Role
from domain.mail.texts import TEXTS
from domain.model import OutboxMessage
from domain.vocabulary import AgreementKind, CriterionKind
from tests.api.client import Caller, Client
from tests.api.world import ApiWorld, Invited
from tests.support.world import Org

GA = "ga@contoso.example"
INVITED = "{ viewer { invitations { id } } }"
EN = TEXTS["en"]


@dataclass(frozen=True)
class Waiting:
    """An organization with one location invited (by email) to one program with criteria."""

    org: Org
    admin: Caller
    location: str
    program: str


def waiting(world: ApiWorld, client: Client, *, country: str = "US", migrated: bool = True) -> Waiting:
    """The agreement invites the location at once (rule 18), before any Incentives admin exists."""
    builder = world.builder
    org = world.run(
        builder.organization(country=country, ga_email=GA, migration_completed=migrated, name="Contoso")
    )
    location = world.run(builder.location(org, "Contoso Lund", country=country))
    program = world.run(
        builder.program(f"P{uuid.uuid4().hex[:8].upper()}", [CriterionKind.PARTNER_PROGRAM_AGREEMENT])
    )
    world.run(builder.agree(org, AgreementKind.PARTNER_PROGRAM))
    admin = client.global_admin(org.tenant_id, org.global_admin.object_id)
    return Waiting(org, admin, to_global_id("Location", location), to_global_id("IncentiveProgram", program))


def assign(
    client: Client, at: Waiting, caller: Caller, email: str | None, role: str = "INCENTIVES_ADMIN"
) -> str:
    scope = {"locationIds": [at.location], "programIds": [at.program]} if role == "INCENTIVES_ADMIN" else {}
    input = {"userObjectId": caller.object_id, "email": email, "role": role, "displayName": "Member", **scope}
    return str(client.ok(at.admin, "assignRole", input, "roleAssignment { id }")["roleAssignment"]["id"])


def outbox(world: ApiWorld) -> list[tuple[str, str]]:
    """(to, body) of every queued message, in order."""
    return [(m.to_address, m.body_text) for m in world.run(world.builder.rows(OutboxMessage))]


def to(world: ApiWorld, address: str) -> list[str]:
    return [body for recipient, body in outbox(world) if recipient == address]


def test_an_incentives_admin_assigned_after_the_invitation_gets_its_email_once_and_its_notice(
    world: ApiWorld, client: Client
) -> None:
    at = waiting(world, client)
    assert [recipient for recipient, _ in outbox(world)] == [GA]
    late = client.caller(at.org.tenant_id)
    assign(client, at, late, "maja@contoso.example")
    [body] = to(world, "maja@contoso.example")
    assert "Contoso Lund" in body
    assert "Please assign" not in body
    assert len(client.query(late, INVITED)["viewer"]["invitations"]) == 1
    # A second assignment covering the same invitation (all programs) writes no second email.
    client.ok(
        at.admin,
        "assignRole",
        {"userObjectId": late.object_id, "email": "maja@contoso.example", "role": "INCENTIVES_ADMIN"},
    )
    assert len(to(world, "maja@contoso.example")) == 1


def test_revoking_the_last_incentives_admin_asks_the_global_and_account_admins_to_assign_one(
    world: ApiWorld, client: Client
) -> None:
    at = waiting(world, client)
    assign(client, at, client.caller(at.org.tenant_id), "erik@contoso.example", role="ACCOUNT_ADMIN")
    first = assign(client, at, client.caller(at.org.tenant_id), "a@contoso.example")
    second = assign(client, at, client.caller(at.org.tenant_id), "b@contoso.example")
    before = len(to(world, GA))
    client.ok(at.admin, "revokeRole", {"roleAssignmentId": first})
    assert len(to(world, GA)) == before  # another still covers it: nobody is asked
    client.ok(at.admin, "revokeRole", {"roleAssignmentId": second})
    for address in (GA, "erik@contoso.example"):
        assert "Please assign an Incentives admin for this location and program." in to(world, address)[-1]


def test_assign_one_only_when_none_covers_and_exactly_that_none_has_an_address(
    world: ApiWorld, client: Client
) -> None:
    builder = world.builder
    org = world.run(builder.organization(ga_email=GA, name="Contoso"))
    location = world.run(builder.location(org, "Contoso Lund"))
    world.run(builder.program("NOADDR", [CriterionKind.PARTNER_PROGRAM_AGREEMENT]))
    world.run(builder.assign(org, str(uuid.uuid4()), Role.INCENTIVES_ADMIN, locations=[location]))
    world.run(builder.agree(org, AgreementKind.PARTNER_PROGRAM))
    [body] = to(world, GA)
    assert "none of them has an email address known to Partner Center" in body
    assert "Please assign" not in body
    assert "no Incentives administrator" not in body


def test_an_unmigrated_organization_is_told_the_migration_comes_first(
    world: ApiWorld, client: Client
) -> None:
    waiting(world, client, migrated=False)
    [body] = to(world, GA)
    assert body.startswith(EN.migration_first)
    waiting(world, client)
    assert EN.migration_first not in to(world, GA)[-1]


@pytest.mark.parametrize(("country", "language"), [("FR", "fr"), ("SE", "sv"), ("US", "en")])
def test_each_review_outcome_is_emailed_once_to_the_covering_admins_in_the_organizations_language(
    world: ApiWorld, client: Client, country: str, language: str
) -> None:
    at = waiting(world, client, country=country)
    admin = client.caller(at.org.tenant_id)
    assign(client, at, admin, "maja@contoso.example")
    assign(client, at, client.caller(at.org.tenant_id), None)  # covers it, no address: not written to
    enrollment = validating(world, at, admin)
    words = TEXTS[language].review
    review = {"enrollmentId": enrollment, "approved": False, "reason": "The bank statement is unreadable."}
    client.ok(client.operator(), "reviewEnrollment", review)
    sent_back = to(world, "maja@contoso.example")[-1]
    assert words.action_required.split("{")[0] in sent_back
    assert "needs action: The bank statement is unreadable.\n\n" in sent_back or language != "en"
    assert "The bank statement is unreadable.\n\n" + open_console(language) in sent_back
    resubmit = {"enrollmentId": enrollment, "paymentProfileId": world.payment_profile(as_invited(at, admin))}
    client.ok(admin, "updateEnrollment", resubmit)
    client.ok(client.operator(), "reviewEnrollment", {"enrollmentId": enrollment, "approved": True})
    reviews = [m for m in world.run(world.builder.rows(OutboxMessage)) if m.message_id.startswith("<review-")]
    # One email per review, to the one covering admin with an address (Maja's sign-in for
    # updateEnrollment taught the service her token's address).
    assert [m.subject for m in reviews] == [words.action_required_subject, words.enrolled_subject]
    assert reviews[0].to_address == "maja@contoso.example"
    assert words.enrolled.split("{")[0] in reviews[1].body_text


def open_console(language: str) -> str:
    return f"{TEXTS[language].review.open_console}: "


def as_invited(at: Waiting, admin: Caller) -> Invited:
    return Invited(partner=None, location=at.location, program=at.program, admin=admin)  # type: ignore[arg-type]


def validating(world: ApiWorld, at: Waiting, admin: Caller) -> str:
    """The admin enrolls with both profiles: VALIDATING_ENROLLMENT."""
    invited = as_invited(at, admin)
    world.tax_profile(invited, "2030-01-01")
    return world.enroll(invited, world.payment_profile(invited))
