"""Payment profiles (organization level) and tax profiles (per location), never deleted: the
Incentives admins manage them, and Incentives users may not see bank details or tax profiles."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select, update

from domain import audit
from domain.access import Action, Actor, Scope
from domain.errors import Conflict
from domain.fiscal import fiscal_year_of
from domain.model import Enrollment, PaymentProfile, TaxProfile
from domain.queries import entities
from domain.services.guards import flush_or_conflict, own_location, own_organization_id, require
from domain.uow import UnitOfWork
from domain.validation import Checks
from domain.vocabulary import EnrollmentStatus

NAME_TAKEN = "the organization already has a payment profile of this name"


async def create_payment_profile(
    uow: UnitOfWork, actor: Actor, *, name: str, currency: str, bank_account_number: str
) -> PaymentProfile:
    """An Incentives admin of any location adds a bank profile; only the last 4 characters are kept."""
    organization_id = own_organization_id(actor, Action.MANAGE_PAYMENT_PROFILES)
    require(actor, Action.MANAGE_PAYMENT_PROFILES, Scope(organization_id=organization_id))
    check = Checks()
    name = check.name(name, "name", max_length=100)
    currency = check.currency(currency)
    account = check.bank_account(bank_account_number)
    check.done()
    async with uow:
        taken = select(func.count()).where(
            PaymentProfile.organization_id == organization_id, PaymentProfile.name == name
        )
        if (await uow.session.execute(taken)).scalar_one():
            raise Conflict(NAME_TAKEN, ["name"])
        profile = PaymentProfile(
            organization_id=organization_id,
            name=name,
            currency=currency,
            bank_account_last4=account[-4:],
            created_at=uow.clock.now(),
        )
        uow.session.add(profile)
        await flush_or_conflict(uow, NAME_TAKEN, ["name"])
        audit.record(uow, actor, "createPaymentProfile", organization_id, profile)
        await uow.commit()
        return profile


async def set_tax_profile(
    uow: UnitOfWork, actor: Actor, *, location_id: int, tax_id: str, country: str, expires_on: date
) -> TaxProfile:
    """A new tax profile for the location; the newest one is the location's current one."""
    async with uow:
        location = await own_location(uow.session, actor, location_id)
        scope = Scope(organization_id=location.organization_id, location_id=location.id)
        require(actor, Action.MANAGE_TAX_PROFILE, scope)
        check = Checks()
        tax_id = check.tax_id(tax_id)
        country = check.country(country)
        if expires_on <= uow.clock.today():
            check.fail("expiresOn", "the tax profile must expire after today")
        check.done()
        previous = (await entities.current_tax_profiles(uow.session, [location.id]))[location.id]
        profile = TaxProfile(
            location_id=location.id,
            tax_id=tax_id,
            country=country,
            expires_on=expires_on,
            created_at=uow.clock.now(),
        )
        uow.session.add(profile)
        await uow.session.flush()
        if previous is not None and not previous.valid_on(uow.clock.today()):
            await _revalidate_lapsed(uow, location.id)
        audit.record(uow, actor, "setTaxProfile", location.organization_id, profile)
        await uow.commit()
        return profile


async def _revalidate_lapsed(uow: UnitOfWork, location_id: int) -> None:
    """ENROLLED enrollments shown ACTION_REQUIRED for the expired profile go back to
    validation with the new one (one UPDATE; those of past fiscal years stay closed records)."""
    await uow.session.execute(
        update(Enrollment)
        .where(
            Enrollment.location_id == location_id,
            Enrollment.status == EnrollmentStatus.ENROLLED,
            Enrollment.fiscal_year >= fiscal_year_of(uow.clock.today()),
        )
        .values(
            status=EnrollmentStatus.VALIDATING_ENROLLMENT,
            action_required_reason=None,
            updated_at=uow.clock.now(),
            version=Enrollment.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
