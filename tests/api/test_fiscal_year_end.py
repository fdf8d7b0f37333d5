"""Rule 23: an enrollment expires with its fiscal year, and year N rolls forward only from July 1 of N+1.

The API's clock stands on the last minute of FY 2027 (June 30 2027, 23:59 UTC) or the first of
FY 2028 (July 1 2027, 00:00 UTC); the world is built on `TODAY`, in FY 2027.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.model import OutboxMessage
from tests.api.client import ENROLLMENT_FIELDS, Caller, Client, Json
from tests.api.world import ApiWorld, Invited, enrollments_of
from tests.support.in_process import InProcessApi
from tests.support.server import TODAY
from tests.support.world import FISCAL_YEAR

VALID = "2099-12-31"
LAST_MINUTE = datetime(FISCAL_YEAR, 6, 30, 23, 59, tzinfo=UTC)
FIRST_MINUTE_AFTER = datetime(FISCAL_YEAR, 7, 1, 0, 0, tzinfo=UTC)
ROLLED = "carried actionRequired ineligible inactive"


def this_year(client: Client, invited: Invited) -> list[Json]:
    """The invited location's enrollments of FY 2027, whatever day the API stands on."""
    return enrollments_of(client, invited, fiscal_year=FISCAL_YEAR)


def audited(client: Client, invited: Invited) -> list[str]:
    """The actions in the audit log of the invited location's organization, as its Global admin reads it."""
    return [action for action, _ in client.audit_actions(invited.partner.admin)]


def review_emails(world: ApiWorld) -> int:
    """How many review outcomes were queued to be emailed (rule 27)."""
    queued = world.run(world.builder.rows(OutboxMessage))
    return sum(message.message_id.startswith("<review-") for message in queued)


def refused_as_ended(client: Client, caller: Caller, mutation: str, input: Json) -> None:
    error = client.user_error(caller, mutation, input, ENROLLMENT_FIELDS)
    assert (error["code"], error["field"]) == ("FISCAL_YEAR_ENDED", ["input", "enrollmentId"]), error


# updateEnrollment: the partner completes an enrollment of FY 2027.


def completion(world: ApiWorld, api: InProcessApi, at: datetime) -> tuple[Invited, Json]:
    """An enrollment of FY 2027 waiting for its payment profile, and its updateEnrollment input, on `at`."""
    invited = world.invited()
    enrollment_id = world.enroll(invited)
    input = {"enrollmentId": enrollment_id, "paymentProfileId": world.payment_profile(invited)}
    api.clock.at = at
    return invited, input


def test_completing_an_enrollment_on_the_last_minute_of_its_year_still_works(
    world: ApiWorld, client: Client, api: InProcessApi
) -> None:
    invited, input = completion(world, api, LAST_MINUTE)
    client.ok(invited.admin, "updateEnrollment", input, ENROLLMENT_FIELDS)
    assert [e["paymentProfile"] for e in this_year(client, invited)] == [{"id": input["paymentProfileId"]}]
    assert "updateEnrollment" in audited(client, invited)


def test_completing_an_enrollment_after_its_year_ended_is_refused_and_changes_nothing(
    world: ApiWorld, client: Client, api: InProcessApi
) -> None:
    invited, input = completion(world, api, FIRST_MINUTE_AFTER)
    before = this_year(client, invited)
    refused_as_ended(client, invited.admin, "updateEnrollment", input)
    assert this_year(client, invited) == before
    assert before[0]["paymentProfile"] is None
    assert "updateEnrollment" not in audited(client, invited)


# reviewEnrollment: the operator approves (or sends back) an enrollment of FY 2027.


def review(
    world: ApiWorld, client: Client, api: InProcessApi, at: datetime, approved: bool
) -> tuple[Invited, Json]:
    """An enrollment of FY 2027 being validated, and the reviewEnrollment input, on `at`. Its admin
    has called the API, so the service knows their address for the outcome's email (rule 27)."""
    invited = world.invited()
    input = {"enrollmentId": world.validating(invited, VALID), "approved": approved, "reason": "unreadable"}
    this_year(client, invited)
    api.clock.at = at
    return invited, input


@pytest.mark.parametrize("approved", [True, False])
def test_reviewing_an_enrollment_on_the_last_minute_of_its_year_still_works(
    world: ApiWorld, client: Client, api: InProcessApi, approved: bool
) -> None:
    invited, input = review(world, client, api, LAST_MINUTE, approved)
    reviewed = client.ok(client.operator(), "reviewEnrollment", input, ENROLLMENT_FIELDS)["enrollment"]
    assert reviewed["status"] == ("ENROLLED" if approved else "ACTION_REQUIRED")
    assert "reviewEnrollment" in audited(client, invited)
    assert review_emails(world) == 1


@pytest.mark.parametrize("approved", [True, False])
def test_reviewing_an_enrollment_after_its_year_ended_is_refused_and_changes_nothing(
    world: ApiWorld, client: Client, api: InProcessApi, approved: bool
) -> None:
    # The finding: a FY2027 enrollment approved in August 2027, earning from August 1.
    invited, input = review(world, client, api, FIRST_MINUTE_AFTER, approved)
    before = this_year(client, invited)
    refused_as_ended(client, client.operator(), "reviewEnrollment", input)
    assert this_year(client, invited) == before
    assert (before[0]["status"], before[0]["earningsStartDate"]) == ("VALIDATING_ENROLLMENT", None)
    assert "reviewEnrollment" not in audited(client, invited)
    assert review_emails(world) == 0


# enroll: it always acts on the enrollment of the year the day falls in, never on an ended one.


@pytest.mark.parametrize(("at", "year"), [(LAST_MINUTE, FISCAL_YEAR), (FIRST_MINUTE_AFTER, FISCAL_YEAR + 1)])
def test_enrolling_acts_on_the_current_year_and_leaves_an_ended_year_as_it_was(
    world: ApiWorld, client: Client, api: InProcessApi, at: datetime, year: int
) -> None:
    invited = world.invited()
    api.clock.at = at
    input = {"locationId": invited.location, "programId": invited.program}
    enrolled = client.ok(invited.admin, "enroll", input, ENROLLMENT_FIELDS)["enrollment"]
    assert (enrolled["fiscalYear"], enrolled["status"]) == (year, "ACTION_REQUIRED")
    if year != FISCAL_YEAR:
        assert [e["status"] for e in this_year(client, invited)] == ["INVITED"]


# rollOverFiscalYear: not before July 1 of N+1.


def enrolled_for_good(world: ApiWorld) -> Invited:
    """ENROLLED in FY 2027 with all it takes to be carried ENROLLED into FY 2028 (rule 14)."""
    partner = world.partner()
    world.agree(partner, "PARTNER_PROGRAM")
    invited = world.invited(partner=partner)
    world.enrolled(invited, VALID)
    return invited


def roll_over(client: Client) -> Json:
    payload: Json = client.payload(
        client.operator(), "rollOverFiscalYear", {"fromFiscalYear": FISCAL_YEAR}, ROLLED
    )
    return payload


@pytest.mark.parametrize("at", [TODAY, LAST_MINUTE], ids=["months-before", "last-minute"])
def test_rolling_a_year_forward_before_it_ends_is_invalid_and_carries_nothing(
    world: ApiWorld, client: Client, api: InProcessApi, at: datetime
) -> None:
    invited = enrolled_for_good(world)
    api.clock.at = at
    (error,) = roll_over(client)["userErrors"]
    assert (error["code"], error["field"]) == ("INVALID", ["input", "fromFiscalYear"]), error
    assert f"{FISCAL_YEAR}-07-01" in error["message"]
    assert enrollments_of(client, invited, fiscal_year=FISCAL_YEAR + 1) == []
    assert "rollOverFiscalYear" not in audited(client, invited)


def test_rolling_a_year_forward_on_the_first_minute_of_the_next_carries_it(
    world: ApiWorld, client: Client, api: InProcessApi
) -> None:
    invited = enrolled_for_good(world)
    api.clock.at = FIRST_MINUTE_AFTER
    rolled = roll_over(client)
    assert rolled == {"carried": 1, "actionRequired": 0, "ineligible": 0, "inactive": 0, "userErrors": []}
    (carried,) = enrollments_of(client, invited, fiscal_year=FISCAL_YEAR + 1)
    assert carried["status"] == "ENROLLED"
