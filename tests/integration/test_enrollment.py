from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from auth.principal import Principal
from domain.errors import Conflict, Forbidden, NotEligible, NotFound, PrerequisiteMissing
from domain.model import AuditEvent, Enrollment
from domain.services import enrollment, programs
from domain.vocabulary import AgreementKind, CriterionKind, EnrollmentStatus, PartnerType
from tests.support import actors
from tests.support.world import FISCAL_YEAR, Org, World


@dataclass
class Scene:
    org: Org
    location_id: int
    program_id: int
    admin: Principal  # Incentives admin of (location, program)


async def scene(world: World, *, criteria: tuple[CriterionKind, ...] = (), migrated: bool = True) -> Scene:
    org = await world.organization(migration_completed=migrated)
    location_id = await world.location(org)
    program_id = await world.program(criteria=criteria)
    admin = actors.incentives_admin(org.tenant_id, org.id, locations=[location_id], programs=[program_id])
    return Scene(org, location_id, program_id, admin)


async def enroll(
    world: World, s: Scene, actor: Principal | None = None, profile: int | None = None
) -> Enrollment:
    return await enrollment.enroll(
        world.uow(),
        actor or s.admin,
        location_id=s.location_id,
        program_id=s.program_id,
        payment_profile_id=profile,
    )


async def test_enrolling_with_both_profiles_goes_to_validation(world: World) -> None:
    s = await scene(world)
    await world.tax_profile(s.admin, s.location_id)
    profile_id = await world.payment_profile(s.admin)
    enrolled = await enroll(world, s, profile=profile_id)
    assert (enrolled.status, enrolled.fiscal_year) == (EnrollmentStatus.VALIDATING_ENROLLMENT, FISCAL_YEAR)
    assert enrolled.payment_profile_id == profile_id
    assert (await world.audit_actions(s.org.id))[-1] == "enroll"


async def test_enrolling_without_profiles_requires_action(world: World) -> None:
    s = await scene(world)
    enrolled = await enroll(world, s)
    assert enrolled.status is EnrollmentStatus.ACTION_REQUIRED


async def test_an_expired_tax_profile_does_not_count(world: World) -> None:
    s = await scene(world)
    await world.tax_profile(s.admin, s.location_id, date(2026, 12, 1))
    world.clock.at = world.clock.at.replace(month=12, day=15)
    enrolled = await enroll(world, s, profile=await world.payment_profile(s.admin))
    assert enrolled.status is EnrollmentStatus.ACTION_REQUIRED


@pytest.mark.parametrize("who", ["global_admin", "account_admin", "incentives_user", "other_location_admin"])
async def test_only_a_covering_incentives_admin_can_enroll(world: World, who: str) -> None:
    s = await scene(world)
    other_location = await world.location(s.org, "Elsewhere")
    actor = {
        "global_admin": s.org.global_admin,
        "account_admin": actors.account_admin(s.org.tenant_id, s.org.id),
        "incentives_user": actors.incentives_user(s.org.tenant_id, s.org.id),
        "other_location_admin": actors.incentives_admin(
            s.org.tenant_id, s.org.id, locations=[other_location]
        ),
    }[who]
    with pytest.raises(Forbidden):
        await enroll(world, s, actor)
    assert await world.count(Enrollment) == 0


async def test_an_incentives_admin_of_another_program_cannot_enroll(world: World) -> None:
    s = await scene(world)
    other_program = await world.program("OTHER")
    actor = actors.incentives_admin(s.org.tenant_id, s.org.id, programs=[other_program])
    with pytest.raises(Forbidden):
        await enroll(world, s, actor)


async def test_another_organizations_location_and_unknown_programs_are_not_found(world: World) -> None:
    s = await scene(world)
    other = await world.organization(name="Fabrikam")
    with pytest.raises(NotFound) as location:
        await enroll(world, s, actors.incentives_admin(other.tenant_id, other.id))
    assert location.value.problems[0].field == ("locationId",)
    with pytest.raises(NotFound) as program:
        await enrollment.enroll(
            world.uow(), s.admin, location_id=s.location_id, program_id=4242, payment_profile_id=None
        )
    assert program.value.problems[0].field == ("programId",)


async def test_a_payment_profile_of_another_organization_is_not_found(world: World) -> None:
    s = await scene(world)
    other = await world.organization(name="Fabrikam")
    foreign_profile = await world.payment_profile(actors.incentives_admin(other.tenant_id, other.id))
    with pytest.raises(NotFound) as raised:
        await enroll(world, s, profile=foreign_profile)
    assert raised.value.problems[0].field == ("paymentProfileId",)
    assert await world.count(Enrollment) == 0


async def test_enrolling_needs_the_migration_completed(world: World) -> None:
    s = await scene(world, migrated=False)
    with pytest.raises(PrerequisiteMissing):
        await enroll(world, s)
    assert await world.count(Enrollment) == 0


async def test_an_ineligible_location_cannot_enroll_in_a_program_with_criteria(world: World) -> None:
    s = await scene(world, criteria=(CriterionKind.RESELLER_AGREEMENT,))
    with pytest.raises(NotEligible):
        await enroll(world, s)
    await world.agree(s.org, AgreementKind.RESELLER)
    assert (await enroll(world, s)).status is EnrollmentStatus.ACTION_REQUIRED


async def test_a_discontinued_program_cannot_be_enrolled(world: World) -> None:
    s = await scene(world)
    await programs.discontinue_program(world.uow(), world.operator, program_id=s.program_id)
    with pytest.raises(NotEligible):
        await enroll(world, s)


async def test_enrolling_completes_the_invited_enrollment_and_a_second_enroll_conflicts(world: World) -> None:
    s = await scene(world)
    async with world.raw() as rows:
        invited = await rows.enrollment(s.location_id, s.program_id)
    enrolled = await enroll(world, s)
    assert enrolled.id == invited.id
    audits_before = await world.count(AuditEvent)
    with pytest.raises(Conflict):
        await enroll(world, s)
    assert await world.count(Enrollment) == 1
    assert await world.count(AuditEvent) == audits_before


async def test_updating_an_enrollment_with_a_payment_profile_sends_it_to_validation(world: World) -> None:
    s = await scene(world)
    await world.tax_profile(s.admin, s.location_id)
    started = await enroll(world, s)
    assert started.status is EnrollmentStatus.ACTION_REQUIRED
    profile_id = await world.payment_profile(s.admin)
    updated = await enrollment.update_enrollment(
        world.uow(), s.admin, enrollment_id=started.id, payment_profile_id=profile_id
    )
    assert updated.status is EnrollmentStatus.VALIDATING_ENROLLMENT
    assert (await world.audit_actions(s.org.id))[-1] == "updateEnrollment"


async def test_updating_an_enrolled_enrollment_sends_it_back_to_validation(world: World) -> None:
    s = await scene(world)
    enrollment_id = await world.enrolled(s.org, s.location_id, s.program_id, tax_expires=date(2028, 1, 1))
    profile_id = await world.payment_profile(s.admin, "Second")
    updated = await enrollment.update_enrollment(
        world.uow(), s.admin, enrollment_id=enrollment_id, payment_profile_id=profile_id
    )
    assert (updated.status, updated.payment_profile_id) == (
        EnrollmentStatus.VALIDATING_ENROLLMENT,
        profile_id,
    )


async def test_updating_an_invited_enrollment_asks_to_enroll_first(world: World) -> None:
    s = await scene(world)
    async with world.raw() as rows:
        invited = await rows.enrollment(s.location_id, s.program_id)
    profile_id = await world.payment_profile(s.admin)
    with pytest.raises(PrerequisiteMissing):
        await enrollment.update_enrollment(
            world.uow(), s.admin, enrollment_id=invited.id, payment_profile_id=profile_id
        )


async def test_update_enrollment_is_not_found_for_other_organizations_and_forbidden_for_others(
    world: World,
) -> None:
    s = await scene(world)
    started = await enroll(world, s)
    profile_id = await world.payment_profile(s.admin)
    other = await world.organization(name="Fabrikam")
    with pytest.raises(NotFound):
        await enrollment.update_enrollment(
            world.uow(),
            actors.incentives_admin(other.tenant_id, other.id),
            enrollment_id=started.id,
            payment_profile_id=profile_id,
        )
    with pytest.raises(Forbidden):
        await enrollment.update_enrollment(
            world.uow(), s.org.global_admin, enrollment_id=started.id, payment_profile_id=profile_id
        )
    assert (await world.rows(Enrollment))[0].status is EnrollmentStatus.ACTION_REQUIRED


async def validating(world: World) -> tuple[Scene, Enrollment]:
    s = await scene(world)
    await world.tax_profile(s.admin, s.location_id)
    return s, await enroll(world, s, profile=await world.payment_profile(s.admin))


async def test_operator_approval_enrolls_from_the_first_of_the_month(world: World) -> None:
    s, submitted = await validating(world)
    reviewed = await enrollment.review_enrollment(
        world.uow(), world.operator, enrollment_id=submitted.id, approved=True, reason=None
    )
    assert (reviewed.status, reviewed.earnings_start_date) == (EnrollmentStatus.ENROLLED, date(2026, 11, 1))
    assert (await world.audit_actions(s.org.id))[-1] == "reviewEnrollment"


async def test_a_re_approval_never_moves_earnings_later(world: World) -> None:
    """Rule 20: enrolled in November, profiles changed and approved again in February: earnings still
    start on November 1 (the months in between are not lost)."""
    s, submitted = await validating(world)
    await enrollment.review_enrollment(
        world.uow(), world.operator, enrollment_id=submitted.id, approved=True, reason=None
    )
    world.clock.at = datetime(2027, 2, 14, 9, 30, tzinfo=UTC)
    other_profile = await world.payment_profile(s.admin, name="Second account")
    resubmitted = await enrollment.update_enrollment(
        world.uow(), s.admin, enrollment_id=submitted.id, payment_profile_id=other_profile
    )
    assert resubmitted.status is EnrollmentStatus.VALIDATING_ENROLLMENT
    again = await enrollment.review_enrollment(
        world.uow(), world.operator, enrollment_id=submitted.id, approved=True, reason=None
    )
    assert (again.status, again.earnings_start_date) == (EnrollmentStatus.ENROLLED, date(2026, 11, 1))


async def test_operator_rejection_requires_action_and_a_second_review_conflicts(world: World) -> None:
    _, submitted = await validating(world)
    reviewed = await enrollment.review_enrollment(
        world.uow(), world.operator, enrollment_id=submitted.id, approved=False, reason="Bank name differs."
    )
    assert (reviewed.status, reviewed.action_required_reason) == (
        EnrollmentStatus.ACTION_REQUIRED,
        "Bank name differs.",
    )
    with pytest.raises(Conflict):
        await enrollment.review_enrollment(
            world.uow(), world.operator, enrollment_id=submitted.id, approved=True, reason=None
        )


async def test_partners_cannot_review_and_unknown_enrollments_are_not_found(world: World) -> None:
    s, submitted = await validating(world)
    with pytest.raises(Forbidden):
        await enrollment.review_enrollment(
            world.uow(), s.org.global_admin, enrollment_id=submitted.id, approved=True, reason=None
        )
    with pytest.raises(NotFound):
        await enrollment.review_enrollment(
            world.uow(), world.operator, enrollment_id=999, approved=True, reason=None
        )
    assert (await world.rows(Enrollment))[0].status is EnrollmentStatus.VALIDATING_ENROLLMENT


async def test_open_programs_need_no_eligibility(world: World) -> None:
    org = await world.organization()
    location_id = await world.location(org, partner_type=PartnerType.INDIRECT_PROVIDER)
    program_id = await world.program()
    admin = actors.incentives_admin(org.tenant_id, org.id)
    enrolled = await enrollment.enroll(
        world.uow(), admin, location_id=location_id, program_id=program_id, payment_profile_id=None
    )
    assert enrolled.status is EnrollmentStatus.ACTION_REQUIRED


async def test_one_payment_profile_serves_several_programs_and_locations(world: World) -> None:
    """A payment profile belongs to the organization: one bank account for every enrollment."""
    org = await world.organization()
    stockholm, malmo = await world.location(org, "Stockholm"), await world.location(org, "Malmo")
    growth, coop = await world.program("GROWTH"), await world.program("COOP")
    admin = actors.incentives_admin(org.tenant_id, org.id)
    profile_id = await world.payment_profile(admin)
    for location_id in (stockholm, malmo):
        await world.tax_profile(admin, location_id)
    made = [
        await world.enroll(admin, location_id, program_id, profile_id)
        for location_id in (stockholm, malmo)
        for program_id in (growth, coop)
    ]
    rows = await world.rows(Enrollment, Enrollment.id.in_(made))
    assert len(rows) == 4
    assert {(row.status, row.payment_profile_id) for row in rows} == {
        (EnrollmentStatus.VALIDATING_ENROLLMENT, profile_id)
    }
