"""Partner-side mutations of the Incentives administrators: notices, payout data, enrollments."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry

from api.graphql.fields import held
from api.graphql.mutations.translate import (
    Payload,
    key,
    mutation,
    optional_key,
    perform,
    text,
)
from api.graphql.types import Enrollment, Info, Invitation, PaymentProfile, TaxProfile
from api.graphql.types.enrollment import enrollment_of
from domain.access import Action
from domain.events import EnrollmentChanged
from domain.services import enrollment, invitations, payout


@strawberry.input(description="The invitation to dismiss.")
class DismissInvitationInput:
    invitation_id: strawberry.ID = strawberry.field(description="The invitation's global ID.")


@strawberry.type(description="The result of `dismissInvitation`.")
class DismissInvitationPayload(Payload):
    invitation: Invitation | None = held(
        default=None, description="The dismissed invitation; null when there are userErrors."
    )


@strawberry.input(description="A new payment (bank) profile of the caller's organization.")
class CreatePaymentProfileInput:
    name: str = strawberry.field(description="A name to tell the profile by, 1 to 200 characters.")
    currency: str = strawberry.field(description="ISO 4217, e.g. EUR.")
    bank_account_number: str = strawberry.field(description="Only its last four characters are kept.")


@strawberry.type(description="The result of `createPaymentProfile`.")
class CreatePaymentProfilePayload(Payload):
    payment_profile: PaymentProfile | None = held(
        default=None, description="The new profile; null when there are userErrors."
    )


@strawberry.input(description="The tax profile of a location (it replaces the one there was).")
class SetTaxProfileInput:
    location_id: strawberry.ID = strawberry.field(description="The location's global ID.")
    tax_id: str = strawberry.field(description="The tax (VAT) identification number.")
    country: str = strawberry.field(description="ISO 3166-1 alpha-2, e.g. DE.")
    expires_on: date = strawberry.field(description="The last day the profile is valid.")


@strawberry.type(description="The result of `setTaxProfile`.")
class SetTaxProfilePayload(Payload):
    tax_profile: TaxProfile | None = held(
        default=None, description="The location's tax profile; null when there are userErrors."
    )


@strawberry.input(description="The location and program to enroll, and the payment profile to pay to.")
class EnrollInput:
    location_id: strawberry.ID = strawberry.field(description="The location's global ID.")
    program_id: strawberry.ID = strawberry.field(description="The program's global ID.")
    payment_profile_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="The payment profile's global ID; left out or null: enroll without one "
        "(ACTION_REQUIRED until there is one).",
    )


@strawberry.type(description="The result of `enroll`.")
class EnrollPayload(Payload):
    enrollment: Enrollment | None = held(
        default=None, description="The enrollment; null when there are userErrors."
    )


@strawberry.input(description="The enrollment and its new payment profile.")
class UpdateEnrollmentInput:
    enrollment_id: strawberry.ID = strawberry.field(description="The enrollment's global ID.")
    payment_profile_id: strawberry.ID = strawberry.field(
        description="The global ID of a payment profile of the same organization."
    )


@strawberry.type(description="The result of `updateEnrollment`.")
class UpdateEnrollmentPayload(Payload):
    enrollment: Enrollment | None = held(
        default=None, description="The enrollment; null when there are userErrors."
    )


async def with_enrollment(info: Info, payload: type[Any], enrollment_id: int) -> Any:
    """The payload with the enrollment as it reads now (its row of the read model)."""
    return payload(enrollment=await enrollment_of(info.context, enrollment_id))


async def _dismiss_invitation(info: Info, input: DismissInvitationInput) -> DismissInvitationPayload | None:
    return await perform(
        info,
        DismissInvitationPayload,
        lambda uow, actor: invitations.dismiss_invitation(
            uow, actor, invitation_id=key(input.invitation_id, "Invitation", "invitationId")
        ),
        lambda invitation: DismissInvitationPayload(invitation=Invitation(row=invitation)),
    )


async def _create_payment_profile(
    info: Info, input: CreatePaymentProfileInput
) -> CreatePaymentProfilePayload | None:
    return await perform(
        info,
        CreatePaymentProfilePayload,
        lambda uow, actor: payout.create_payment_profile(
            uow,
            actor,
            name=text(input.name, "name", 100),
            currency=text(input.currency, "currency", 3),
            # 34 characters at most, as typed in groups of four
            bank_account_number=text(input.bank_account_number, "bankAccountNumber", 42),
        ),
        lambda profile: CreatePaymentProfilePayload(payment_profile=PaymentProfile(row=profile)),
    )


async def _set_tax_profile(info: Info, input: SetTaxProfileInput) -> SetTaxProfilePayload | None:
    return await perform(
        info,
        SetTaxProfilePayload,
        lambda uow, actor: payout.set_tax_profile(
            uow,
            actor,
            location_id=key(input.location_id, "Location", "locationId"),
            tax_id=text(input.tax_id, "taxId", 64),
            country=text(input.country, "country", 2),
            expires_on=input.expires_on,
        ),
        lambda profile: SetTaxProfilePayload(tax_profile=TaxProfile(row=profile)),
    )


async def _enroll(info: Info, input: EnrollInput) -> EnrollPayload | None:
    return await perform(
        info,
        EnrollPayload,
        lambda uow, actor: enrollment.enroll(
            uow,
            actor,
            location_id=key(input.location_id, "Location", "locationId"),
            program_id=key(input.program_id, "IncentiveProgram", "programId"),
            payment_profile_id=optional_key(input.payment_profile_id, "PaymentProfile", "paymentProfileId"),
        ),
        lambda enrolled: with_enrollment(info, EnrollPayload, enrolled.id),
        announce=lambda enrolled: EnrollmentChanged(enrolled.id),
    )


async def _update_enrollment(info: Info, input: UpdateEnrollmentInput) -> UpdateEnrollmentPayload | None:
    return await perform(
        info,
        UpdateEnrollmentPayload,
        lambda uow, actor: enrollment.update_enrollment(
            uow,
            actor,
            enrollment_id=key(input.enrollment_id, "Enrollment", "enrollmentId"),
            payment_profile_id=key(input.payment_profile_id, "PaymentProfile", "paymentProfileId"),
        ),
        lambda updated: with_enrollment(info, UpdateEnrollmentPayload, updated.id),
        announce=lambda updated: EnrollmentChanged(updated.id),
    )


@strawberry.type
class IncentivesMutations:
    dismiss_invitation: DismissInvitationPayload | None = mutation(
        _dismiss_invitation, "Hides a home-page notice for the caller only.", Action.INVITATION_NOTICES
    )
    create_payment_profile: CreatePaymentProfilePayload | None = mutation(
        _create_payment_profile, "Creates an organization-level bank profile.", Action.MANAGE_PAYMENT_PROFILES
    )
    set_tax_profile: SetTaxProfilePayload | None = mutation(
        _set_tax_profile, "Gives a location a new current tax profile.", Action.MANAGE_TAX_PROFILE
    )
    enroll: EnrollPayload | None = mutation(
        _enroll,
        "Enrolls a location in a program: VALIDATING_ENROLLMENT when the location has a valid tax "
        "profile and a payment profile is given, else ACTION_REQUIRED. GLOBAL_ADMIN and ACCOUNT_ADMIN "
        "cannot, unless they also hold that assignment.",
        Action.ENROLL,
    )
    update_enrollment: UpdateEnrollmentPayload | None = mutation(
        _update_enrollment, "Completes an enrollment with a payment profile.", Action.ENROLL
    )
