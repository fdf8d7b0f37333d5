"""Rule 25: no status a caller is shown says INELIGIBLE for an enrollment that `enroll` would accept.

For every stored status and every kind of program (open to all, with criteria the location meets,
with criteria it does not), each kind of caller reads the enrollment's status through the API, then
its covering Incentives admin tries `enroll`: where it is accepted, nobody was shown INELIGIBLE, and
where someone was shown INELIGIBLE, it is refused with NOT_ELIGIBLE.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from domain.vocabulary import EnrollmentStatus
from tests.api.client import Caller, Client
from tests.api.world import ApiWorld, Invited, key
from tests.support.world import FISCAL_YEAR, RawRows

S = EnrollmentStatus
STORED = (S.INVITED, S.ACTION_REQUIRED, S.VALIDATING_ENROLLMENT, S.ENROLLED, S.INELIGIBLE, S.INACTIVE)
# (criteria, agreements): open to all; with criteria the location meets (but no PARTNER_PROGRAM
# agreement: rule 14's roll-forward leaves such a one INELIGIBLE); with criteria it does not meet.
PROGRAMS: dict[str, tuple[Sequence[str], Sequence[str]]] = {
    "open": ((), ()),
    "criteria met": (("RESELLER_AGREEMENT",), ("RESELLER",)),
    "criteria unmet": (("PARTNER_PROGRAM_AGREEMENT",), ()),
}
CALLERS = ("GLOBAL_ADMIN", "ACCOUNT_ADMIN", "INCENTIVES_USER", "operator")


def stored_enrollment(world: ApiWorld, kind: str, stored: S) -> Invited:
    """A location of a new partner with an enrollment of this fiscal year stored as `stored` (as
    an older roll-forward or an eligibility change left it), and an Incentives admin covering it."""
    criteria, agreements = PROGRAMS[kind]
    partner = world.partner()
    if agreements:
        world.agree(partner, *agreements)
    location = world.location(partner, "DIRECT_RESELLER")
    program = world.program(criteria)
    admin = world.member(partner, "INCENTIVES_ADMIN", locations=[location], programs=[program])

    async def write(rows: RawRows) -> object:
        location_id, program_id = key(location, "Location"), key(program, "IncentiveProgram")
        return await rows.enrollment(location_id, program_id, status=stored, fiscal_year=FISCAL_YEAR)

    world.raw(write)
    return Invited(partner=partner, location=location, program=program, admin=admin)


def shown(client: Client, invited: Invited, caller: Caller) -> str:
    (enrollment,) = client.enrollments(caller, invited.location, invited.program, FISCAL_YEAR)
    status: str = enrollment["status"]
    return status


@pytest.mark.parametrize("stored", STORED, ids=[status.value for status in STORED])
@pytest.mark.parametrize("kind", list(PROGRAMS))
def test_no_caller_is_shown_ineligible_what_enroll_accepts(
    client: Client, world: ApiWorld, kind: str, stored: S
) -> None:
    invited = stored_enrollment(world, kind, stored)
    callers = [invited.admin, *(world.caller(invited.partner, name) for name in CALLERS)]
    statuses = {shown(client, invited, caller) for caller in callers}

    payload = client.payload(
        invited.admin, "enroll", {"locationId": invited.location, "programId": invited.program}
    )
    codes = [error["code"] for error in payload["userErrors"]]
    if not codes:
        assert "INELIGIBLE" not in statuses, (kind, stored, statuses)
    if "INELIGIBLE" in statuses:
        assert codes == ["NOT_ELIGIBLE"], (kind, stored, codes)
    # An open program is open: whatever it was left at, its enrollment never reads INELIGIBLE
    # unless stored so (which, since migration 0006 and rule 25's roll-forward, nothing does).
    if kind == "open" and stored is not S.INELIGIBLE:
        assert "INELIGIBLE" not in statuses


def test_an_enrollment_left_ineligible_by_the_roll_forward_is_invited_once_eligible_and_then_enrolls(
    client: Client, world: ApiWorld
) -> None:
    """Rules 14, 18 and 25: carried INELIGIBLE for want of the PARTNER_PROGRAM agreement while the
    criteria are met, it is refused and shown INELIGIBLE; once the agreement is recorded it is
    INVITED, with its invitation, and `enroll` accepts it."""
    invited = stored_enrollment(world, "criteria met", S.INELIGIBLE)
    enroll = {"locationId": invited.location, "programId": invited.program}
    assert client.user_error(invited.admin, "enroll", enroll)["code"] == "NOT_ELIGIBLE"
    assert shown(client, invited, invited.admin) == "INELIGIBLE"

    client.ok(
        client.operator(),
        "recordAgreement",
        {"organizationId": invited.partner.organization_id, "kind": "PARTNER_PROGRAM", "active": True},
    )
    assert shown(client, invited, invited.admin) == "INVITED"
    notices = client.query(
        invited.partner.admin, "{ viewer { invitations { location { id } program { id } } } }"
    )
    assert {"location": {"id": invited.location}, "program": {"id": invited.program}} in notices["viewer"][
        "invitations"
    ]
    client.ok(invited.admin, "enroll", enroll)
    assert shown(client, invited, invited.admin) == "ACTION_REQUIRED"
