"""Enrolling, completing and reviewing enrollments."""

from __future__ import annotations

from sqlalchemy import select

from domain import audit
from domain.access import Action, Actor, Scope
from domain.eligibility import is_eligible
from domain.errors import Conflict, NotEligible, NotFound, PrerequisiteMissing
from domain.fiscal import fiscal_year_of, require_fiscal_year_open
from domain.mail.follow_ups import queue_review_outcome
from domain.mail.messages import DEFAULT_PUBLIC_URL
from domain.model import Enrollment, Location, Organization, PaymentProfile, Program
from domain.queries import entities
from domain.services.guards import flush_or_conflict, own_enrollment, own_location, program, require
from domain.uow import UnitOfWork
from domain.vocabulary import EnrollmentStatus

CHANGED_CONCURRENTLY = "the enrollment was changed at the same time; try again"
# Rule 25: `enroll` accepts only what a caller is shown as something to act on. An INELIGIBLE
# enrollment (the criteria lost, or rule 14's roll-forward without the agreement) is refused, shown
# INELIGIBLE, until eligibility returns it to INVITED with its invitation (rules 18 and 24); an open
# program's is never INELIGIBLE (the roll-forward carries it, migration 0006 reopened older ones).
ENROLLABLE = frozenset({EnrollmentStatus.INVITED})
NOT_STARTED = ENROLLABLE | {EnrollmentStatus.INELIGIBLE}
RESUBMITTABLE = frozenset(
    {EnrollmentStatus.ACTION_REQUIRED, EnrollmentStatus.VALIDATING_ENROLLMENT, EnrollmentStatus.ENROLLED}
)


async def enroll(
    uow: UnitOfWork,
    actor: Actor,
    *,
    location_id: int,
    program_id: int,
    payment_profile_id: int | None,
) -> Enrollment:
    """An Incentives admin covering (location, program) enrolls it for this fiscal year: the
    organization must have completed its migration and the location meet the program's criteria."""
    async with uow:
        session = uow.session
        location = await own_location(session, actor, location_id)
        chosen = await program(session, program_id)
        require(actor, Action.ENROLL, _scope(location, chosen))
        _require_active(chosen)
        org = await session.get(Organization, location.organization_id)
        assert org is not None, "a location's organization exists"
        if not org.migration_completed:
            raise PrerequisiteMissing("complete the organization's migration to Partner Center first")
        await _require_eligible(uow, location, chosen)
        await _check_payment_profile(uow, org.id, payment_profile_id)
        enrollment = await _current_enrollment(uow, location.id, chosen.id)
        await _submit(uow, enrollment, payment_profile_id)
        await _flush_audited(uow, actor, org.id, enrollment, "enroll")
        return enrollment


async def update_enrollment(
    uow: UnitOfWork, actor: Actor, *, enrollment_id: int, payment_profile_id: int
) -> Enrollment:
    """Complete or change the profiles of an enrollment; it goes (back) to validation."""
    async with uow:
        enrollment, location = await own_enrollment(uow.session, actor, enrollment_id)
        chosen = await program(uow.session, enrollment.program_id)
        require(actor, Action.ENROLL, _scope(location, chosen))
        require_fiscal_year_open(enrollment.fiscal_year, uow.clock.today(), "enrollmentId")
        _require_active(chosen)
        await _check_payment_profile(uow, location.organization_id, payment_profile_id)
        if enrollment.status in NOT_STARTED:
            raise PrerequisiteMissing("enroll first", ["enrollmentId"])
        if enrollment.status not in RESUBMITTABLE:
            raise NotEligible("the enrollment is inactive", ["enrollmentId"])
        await _submit(uow, enrollment, payment_profile_id)
        await _flush_audited(uow, actor, location.organization_id, enrollment, "updateEnrollment")
        return enrollment


async def review_enrollment(
    uow: UnitOfWork,
    actor: Actor,
    *,
    enrollment_id: int,
    approved: bool,
    reason: str | None,
    public_url: str = DEFAULT_PUBLIC_URL,
) -> Enrollment:
    """The operator ends validation: ENROLLED, or back to ACTION_REQUIRED with a reason; the
    covering Incentives admins are emailed the outcome (rule 27)."""
    require(actor, Action.OPERATE)
    async with uow:
        enrollment = await uow.session.get(Enrollment, enrollment_id)
        if enrollment is None:
            raise NotFound("enrollment not found", ["enrollmentId"])
        require_fiscal_year_open(enrollment.fiscal_year, uow.clock.today(), "enrollmentId")
        if enrollment.status is not EnrollmentStatus.VALIDATING_ENROLLMENT:
            raise Conflict("only an enrollment being validated can be reviewed", ["enrollmentId"])
        enrollment.review(approved=approved, today=uow.clock.today(), reason=reason)
        location = await uow.session.get(Location, enrollment.location_id)
        assert location is not None, "an enrollment's location exists"
        await flush_or_conflict(uow, CHANGED_CONCURRENTLY)
        event = audit.record(uow, actor, "reviewEnrollment", location.organization_id, enrollment)
        await uow.session.flush()  # the event's id names the emails: once per review
        await queue_review_outcome(uow, enrollment, event.id, public_url)
        await uow.commit()
        return enrollment


def _scope(location: Location, chosen: Program) -> Scope:
    return Scope(organization_id=location.organization_id, location_id=location.id, program_id=chosen.id)


def _require_active(chosen: Program) -> None:
    if not chosen.is_active:
        raise NotEligible("the program is discontinued", ["programId"])


async def _require_eligible(uow: UnitOfWork, location: Location, chosen: Program) -> None:
    criteria = (await entities.criteria_by_program(uow.session, [chosen.id]))[chosen.id]
    standing = (await entities.standings(uow.session, [location]))[location.id]
    if criteria and not is_eligible(criteria, standing):
        raise NotEligible("the location does not meet the program's eligibility criteria", ["locationId"])


async def _check_payment_profile(
    uow: UnitOfWork, organization_id: int, payment_profile_id: int | None
) -> None:
    if payment_profile_id is None:
        return
    profile = await uow.session.get(PaymentProfile, payment_profile_id)
    if profile is None or profile.organization_id != organization_id:
        raise NotFound("payment profile not found", ["paymentProfileId"])


async def _current_enrollment(uow: UnitOfWork, location_id: int, program_id: int) -> Enrollment:
    """This fiscal year's enrollment, new when there is none; one already under way is a Conflict."""
    fiscal_year = fiscal_year_of(uow.clock.today())
    statement = select(Enrollment).where(
        Enrollment.location_id == location_id,
        Enrollment.program_id == program_id,
        Enrollment.fiscal_year == fiscal_year,
    )
    enrollment = (await uow.session.execute(statement)).scalar_one_or_none()
    if enrollment is None:
        now = uow.clock.now()
        enrollment = Enrollment(
            location_id=location_id,
            program_id=program_id,
            fiscal_year=fiscal_year,
            status=EnrollmentStatus.INVITED,
            created_at=now,
            updated_at=now,
        )
        uow.session.add(enrollment)
        await flush_or_conflict(uow, CHANGED_CONCURRENTLY)
    elif enrollment.status is EnrollmentStatus.INELIGIBLE:
        raise NotEligible(
            "the location is not eligible for this program this fiscal year; it is invited once it is",
            ["programId"],
        )
    elif enrollment.status not in ENROLLABLE:
        raise Conflict("the location is already enrolled or enrolling in this program", ["programId"])
    return enrollment


async def _submit(uow: UnitOfWork, enrollment: Enrollment, payment_profile_id: int | None) -> None:
    tax_profile = (await entities.current_tax_profiles(uow.session, [enrollment.location_id]))[
        enrollment.location_id
    ]
    tax_valid = tax_profile is not None and tax_profile.valid_on(uow.clock.today())
    enrollment.submit(tax_profile_valid=tax_valid, payment_profile_id=payment_profile_id)
    enrollment.updated_at = uow.clock.now()


async def _flush_audited(
    uow: UnitOfWork, actor: Actor, organization_id: int, enrollment: Enrollment, action: str
) -> None:
    await flush_or_conflict(uow, CHANGED_CONCURRENTLY)
    audit.record(uow, actor, action, organization_id, enrollment)
    await uow.commit()
