"""Issue 4: tax profiles expire. Lapsed ENROLLED enrollments go back to validation with a new profile,
and the operator's ACTION_REQUIRED list holds them meanwhile."""

from __future__ import annotations

from datetime import UTC, date, datetime

from domain.model import Enrollment
from domain.queries import enrollments
from domain.queries.pages import PageArgs, Rows
from domain.vocabulary import EnrollmentStatus
from tests.support import actors
from tests.support.world import Org, World

EXPIRES = date(2027, 1, 31)
AFTER_EXPIRY = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)  # still fiscal year 2027


async def enrolled_world(world: World) -> tuple[Org, int, int]:
    """An organization with one location ENROLLED in one program; its tax profile expires EXPIRES."""
    org = await world.organization()
    location_id = await world.location(org)
    program_id = await world.program()
    enrollment_id = await world.enrolled(org, location_id, program_id, tax_expires=EXPIRES)
    return org, location_id, enrollment_id


ENROLLMENTS = Rows(Enrollment.__table__)


async def status_of(world: World, enrollment_id: int) -> EnrollmentStatus:
    [row] = await world.rows(Enrollment, Enrollment.id == enrollment_id)
    status: EnrollmentStatus = row.status
    return status


async def operator_sees(world: World, status: EnrollmentStatus) -> set[int]:
    today = world.clock.today()
    async with world.sessions() as session:
        page = await enrollments.all_enrollment_rows_page(
            session, ENROLLMENTS, PageArgs(first=100), status, today
        )
        count = await enrollments.all_enrollments_count(session, status, today)
    assert count == len(page.items)
    return {item.id for item in page.items}


async def test_a_new_tax_profile_sends_lapsed_enrollments_back_to_validation(world: World) -> None:
    org, location_id, enrollment_id = await enrolled_world(world)
    world.clock.at = AFTER_EXPIRY
    admin = actors.incentives_admin(org.tenant_id, org.id, locations=[location_id])

    await world.tax_profile(admin, location_id, date(2029, 1, 31))

    assert await status_of(world, enrollment_id) is EnrollmentStatus.VALIDATING_ENROLLMENT


async def test_a_new_tax_profile_leaves_enrollments_with_a_valid_one_enrolled(world: World) -> None:
    org, location_id, enrollment_id = await enrolled_world(world)
    admin = actors.incentives_admin(org.tenant_id, org.id, locations=[location_id])

    await world.tax_profile(admin, location_id, date(2029, 1, 31))

    assert await status_of(world, enrollment_id) is EnrollmentStatus.ENROLLED


async def test_enrollments_of_past_fiscal_years_stay_closed_records(world: World) -> None:
    org, location_id, enrollment_id = await enrolled_world(world)
    async with world.raw() as rows:
        await rows.move_enrollments_to(2026)
    world.clock.at = AFTER_EXPIRY
    admin = actors.incentives_admin(org.tenant_id, org.id, locations=[location_id])

    await world.tax_profile(admin, location_id, date(2029, 1, 31))

    assert await status_of(world, enrollment_id) is EnrollmentStatus.ENROLLED
    assert await operator_sees(world, EnrollmentStatus.ACTION_REQUIRED) == set()


async def test_other_locations_keep_their_status_when_one_gets_a_new_tax_profile(world: World) -> None:
    org, location_id, _ = await enrolled_world(world)
    other_location = await world.location(org, "Contoso Tacoma")
    other_program = await world.program("OTHER")
    other = await world.enrolled(org, other_location, other_program, tax_expires=EXPIRES)
    world.clock.at = AFTER_EXPIRY
    admin = actors.incentives_admin(org.tenant_id, org.id, locations=[location_id])

    await world.tax_profile(admin, location_id, date(2029, 1, 31))

    assert await status_of(world, other) is EnrollmentStatus.ENROLLED  # stored; shown ACTION_REQUIRED


async def test_the_operator_finds_lapsed_enrollments_under_action_required_not_enrolled(world: World) -> None:
    _, _, enrollment_id = await enrolled_world(world)
    assert await operator_sees(world, EnrollmentStatus.ENROLLED) == {enrollment_id}
    assert await operator_sees(world, EnrollmentStatus.ACTION_REQUIRED) == set()

    world.clock.at = AFTER_EXPIRY

    assert await operator_sees(world, EnrollmentStatus.ACTION_REQUIRED) == {enrollment_id}
    assert await operator_sees(world, EnrollmentStatus.ENROLLED) == set()


async def test_only_the_newest_tax_profile_of_a_location_counts_for_the_operator(world: World) -> None:
    org, location_id, enrollment_id = await enrolled_world(world)
    admin = actors.incentives_admin(org.tenant_id, org.id, locations=[location_id])
    await world.tax_profile(admin, location_id, date(2029, 1, 31))

    world.clock.at = AFTER_EXPIRY  # the first profile has expired, the current one has not

    assert await operator_sees(world, EnrollmentStatus.ENROLLED) == {enrollment_id}
    assert await operator_sees(world, EnrollmentStatus.ACTION_REQUIRED) == set()
