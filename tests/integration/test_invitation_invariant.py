"""Rule 24's invariant, after every step of generated sequences of what changes eligibility.

Every INVITED enrollment of a program with criteria in the current fiscal year has an EMAIL
invitation of that year, listed in `viewer.invitations` for the organization's Global admin (rules 9
and 17: the home-page notices), whatever came before: agreements and the designation granted and
revoked, locations added, programs created (and the invitation worker run, as a server would),
fiscal years rolled forward (the automatic roll-forward, then its queued invitations), invitations
dismissed, locations enrolled.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import exists, select

from domain.access import Action
from domain.eligibility_sql import meets_criteria_of
from domain.errors import UserInputError
from domain.fiscal import fiscal_year_of
from domain.model import Enrollment, Invitation, Location, Organization, Program, ProgramCriterion
from domain.queries.enrollments import home_page_notices
from domain.services.invitation_jobs import queue_new_year, run_invitation_jobs
from domain.services.invitations import dismiss_invitation
from domain.services.organizations import set_solutions_partner_designation
from domain.services.rollover import roll_over_fiscal_year
from domain.vocabulary import (
    AgreementKind,
    CriterionKind,
    EnrollmentStatus,
    InvitationChannel,
    PartnerType,
    ProgramStatus,
)
from tests.support import actors
from tests.support.databases import copy_sqlite_database, run_async
from tests.support.world import Org, World, world_on

ORGS = 2
Step = tuple[Any, ...]
steps = st.one_of(
    st.tuples(
        st.just("agree"), st.integers(0, ORGS - 1), st.sampled_from(list(AgreementKind)), st.booleans()
    ),
    st.tuples(st.just("designate"), st.integers(0, ORGS - 1), st.booleans()),
    st.tuples(st.just("location"), st.integers(0, ORGS - 1), st.sampled_from(list(PartnerType))),
    st.tuples(st.just("program"), st.frozensets(st.sampled_from(list(CriterionKind)), max_size=2)),
    st.tuples(st.just("new year")),
    st.tuples(st.just("dismiss"), st.integers(0, 5)),
    st.tuples(st.just("enroll"), st.integers(0, 5), st.booleans()),
)
# Rule 24's last case, spelled out: enrolled, carried INELIGIBLE for want of the PARTNER_PROGRAM
# agreement (rule 14), then eligible again once it is recorded.
REGAINED = [("enroll", 0, True), ("new year",), ("agree", 0, AgreementKind.PARTNER_PROGRAM, True)]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(steps, min_size=1, max_size=10))
@example(REGAINED)
def test_every_invited_enrollment_of_a_program_with_criteria_has_its_invitation(
    sqlite_template: Path, tmp_path: Path, sequence: list[Step]
) -> None:
    url = copy_sqlite_database(sqlite_template, tmp_path / f"{uuid.uuid4().hex}.db")
    run_async(lambda: play(url, sequence))


async def play(url: str, sequence: list[Step]) -> None:
    async with world_on(url) as world:
        orgs = [await world.organization(ga_email=f"ga{i}@example.com", name=f"Org {i}") for i in range(ORGS)]
        await world.agree(orgs[0], AgreementKind.RESELLER)  # its first location is invited to P0
        await world.location(orgs[0], "First")
        await world.program("P0", [CriterionKind.RESELLER_AGREEMENT])
        await run_jobs(world)
        await check(world, orgs, "start")
        for number, step in enumerate(sequence, 1):
            # A refusal is as the rules say (e.g. a location name taken): nothing changed.
            with contextlib.suppress(UserInputError):
                await apply(world, orgs, number, step)
            await check(world, orgs, f"after {step} of {sequence}")


async def run_jobs(world: World) -> None:
    await run_invitation_jobs(world.uow(), world.operator, public_url="https://pc.example")


async def apply(world: World, orgs: list[Org], number: int, step: Step) -> None:
    match step:
        case ("agree", org, kind, active):
            await world.agree(orgs[org], kind, active=active)
        case ("designate", org, designated):
            await set_solutions_partner_designation(
                world.uow(), world.operator, organization_id=orgs[org].id, designated=designated
            )
        case ("location", org, partner_type):
            await world.location(orgs[org], f"Location {number}", partner_type)
        case ("program", criteria):
            await world.program(f"P{number}", sorted(criteria))
            await run_jobs(world)
        case ("new year",):
            await new_year(world)
        case ("dismiss", index):
            await dismiss(world, orgs, index)
        case ("enroll", index, approved):
            await enroll_invited(world, orgs, number, index, approved=approved)


async def new_year(world: World) -> None:
    """What a server does on July 1 of N+1: the roll-forward, then the new year's invitations."""
    from_year = fiscal_year_of(world.clock.today())
    world.clock.at = datetime(from_year, 7, 1, 9, 0, tzinfo=UTC)
    await roll_over_fiscal_year(world.uow(), world.operator, from_fiscal_year=from_year)
    await queue_new_year(world.uow(), from_year + 1)
    await run_jobs(world)


async def _current(world: World, model: Any, *where: Any) -> list[Any]:
    year = fiscal_year_of(world.clock.today())
    rows = await world.rows(model, model.fiscal_year == year, *where)
    return sorted(rows, key=lambda row: row.id)


def _org_of(orgs: list[Org], location_id: int) -> Org:
    (org,) = [org for org in orgs if location_id in org.location_ids]
    return org


async def dismiss(world: World, orgs: list[Org], index: int) -> None:
    invitations = await _current(world, Invitation, Invitation.channel == InvitationChannel.EMAIL)
    if invitations:
        invitation = invitations[index % len(invitations)]
        admin = _org_of(orgs, invitation.location_id).global_admin
        await dismiss_invitation(world.uow(), admin, invitation_id=invitation.id)


async def enroll_invited(world: World, orgs: list[Org], number: int, index: int, *, approved: bool) -> None:
    """An invited location enrolls: ACTION_REQUIRED, or with its profiles and the operator's approval
    ENROLLED (a tax profile valid for years, so that the roll-forward carries it)."""
    invited = await _current(world, Enrollment, Enrollment.status == EnrollmentStatus.INVITED)
    if not invited:
        return
    enrollment = invited[index % len(invited)]
    org = _org_of(orgs, enrollment.location_id)
    admin = actors.incentives_admin(org.tenant_id, org.id)
    profile = None
    if approved:
        await world.tax_profile(admin, enrollment.location_id, date(2040, 1, 1))
        profile = await world.payment_profile(admin, f"Account {number}")
    enrollment_id = await world.enroll(admin, enrollment.location_id, enrollment.program_id, profile)
    if approved:
        await world.review(enrollment_id)


async def check(world: World, orgs: list[Org], when: str) -> None:
    year = fiscal_year_of(world.clock.today())
    email = exists().where(
        Invitation.location_id == Enrollment.location_id,
        Invitation.program_id == Enrollment.program_id,
        Invitation.fiscal_year == Enrollment.fiscal_year,
        Invitation.channel == InvitationChannel.EMAIL,
    )
    waiting = (
        select(Location.organization_id, Enrollment.location_id, Enrollment.program_id)
        .join(Location, Location.id == Enrollment.location_id)
        .where(
            Enrollment.status == EnrollmentStatus.INVITED,
            Enrollment.fiscal_year == year,
            exists().where(ProgramCriterion.program_id == Enrollment.program_id),
        )
    )
    # As soon as eligible, invited: an eligible location has this year's enrollment (carried or invited).
    enrolled = exists().where(
        Enrollment.location_id == Location.id,
        Enrollment.program_id == Program.id,
        Enrollment.fiscal_year == year,
    )
    forgotten = (
        select(Location.id, Program.id)
        .join(Organization, Organization.id == Location.organization_id)
        .join(Program, Program.status == ProgramStatus.ACTIVE)
        .where(
            exists().where(ProgramCriterion.program_id == Program.id),
            meets_criteria_of(Program.id),
            ~enrolled,
        )
    )
    async with world.sessions() as session:
        without = (await session.execute(waiting.where(~email))).all()
        assert without == [], f"INVITED without an EMAIL invitation of FY {year} {when}"
        uninvited = (await session.execute(forgotten)).all()
        assert uninvited == [], f"eligible, not invited for FY {year} {when}"
        for org in orgs:
            admin = actors.global_admin(org.tenant_id, org.id)
            notices = await home_page_notices(
                session,
                organization_id=org.id,
                user_id=None,  # a Global admin who dismissed nothing
                coverage=admin.coverage(Action.INVITATION_NOTICES, org.id),
                fiscal_year=year,
            )
            listed = {(notice.location_id, notice.program_id) for notice in notices}
            expected = {
                (row.location_id, row.program_id)
                for row in (await session.execute(waiting)).all()
                if row.organization_id == org.id
            }
            assert expected <= listed, f"not listed for the Global admin {when}"
