"""Operator-side mutations: programs, agreements, designations, invitations, reviews, roll-forward."""

from __future__ import annotations

import strawberry

from api.graphql.fields import held
from api.graphql.mutations.incentives import with_enrollment
from api.graphql.mutations.translate import Payload, key, mutation, optional_text, perform, text
from api.graphql.types import Enrollment, IncentiveProgram, Info, Organization
from domain.access import Action
from domain.events import EnrollmentChanged, InvitationsIssued
from domain.fiscal import fiscal_year_of
from domain.services import enrollment, invitations, organizations, programs, rollover
from domain.vocabulary import AgreementKind, CriterionKind


@strawberry.input(description="A new incentive program.")
class CreateProgramInput:
    code: str = strawberry.field(description="2-32 of A-Z, 0-9, '_' and '-', unique.")
    name: str = strawberry.field(description="The program's name, 1 to 200 characters.")
    criteria: list[CriterionKind] = strawberry.field(description="[]: open to all partners.")


@strawberry.type(description="The result of `createProgram`.")
class CreateProgramPayload(Payload):
    program: IncentiveProgram | None = held(
        default=None, description="The new program; null when there are userErrors."
    )


@strawberry.input(description="The program to discontinue.")
class DiscontinueProgramInput:
    program_id: strawberry.ID = strawberry.field(description="The program's global ID.")


@strawberry.type(description="The result of `discontinueProgram`.")
class DiscontinueProgramPayload(Payload):
    program: IncentiveProgram | None = held(
        default=None, description="The discontinued program; null when there are userErrors."
    )


@strawberry.input(description="An agreement of an organization, active or not.")
class RecordAgreementInput:
    organization_id: strawberry.ID = strawberry.field(description="The organization's global ID.")
    kind: AgreementKind = strawberry.field(description="Which agreement.")
    active: bool = strawberry.field(description="Whether the agreement is in force.")


@strawberry.type(description="The result of `recordAgreement`.")
class RecordAgreementPayload(Payload):
    organization: Organization | None = held(
        default=None, description="The organization; null when there are userErrors."
    )


@strawberry.input(description="Whether an organization holds a Solutions Partner designation.")
class SetSolutionsPartnerDesignationInput:
    organization_id: strawberry.ID = strawberry.field(description="The organization's global ID.")
    designated: bool = strawberry.field(description="Whether it holds the designation.")


@strawberry.type(description="The result of `setSolutionsPartnerDesignation`.")
class SetSolutionsPartnerDesignationPayload(Payload):
    organization: Organization | None = held(
        default=None, description="The organization; null when there are userErrors."
    )


@strawberry.input(description="The program to invite eligible locations to.")
class IssueInvitationsInput:
    program_id: strawberry.ID = strawberry.field(description="The program's global ID.")
    fiscal_year: int | None = strawberry.field(
        default=None,
        description="The current fiscal year (null or left out) or the next one; any other is INVALID.",
    )


@strawberry.type(description="The result of `issueInvitations`.")
class IssueInvitationsPayload(Payload):
    invitations_created: int = held(default=0, description="0 when run again.")


@strawberry.input(description="An operator's verdict on an enrollment that is VALIDATING_ENROLLMENT.")
class ReviewEnrollmentInput:
    enrollment_id: strawberry.ID = strawberry.field(description="The enrollment's global ID.")
    approved: bool = strawberry.field(description="True: ENROLLED; false: ACTION_REQUIRED, with `reason`.")
    reason: str | None = strawberry.field(
        default=strawberry.UNSET, description="Why it was sent back, shown to the partner."
    )


@strawberry.type(description="The result of `reviewEnrollment`.")
class ReviewEnrollmentPayload(Payload):
    enrollment: Enrollment | None = held(
        default=None, description="The reviewed enrollment; null when there are userErrors."
    )


@strawberry.input(description="The fiscal year whose enrollments are carried into the next.")
class RollOverFiscalYearInput:
    from_fiscal_year: int = strawberry.field(
        description="The fiscal year that ends (e.g. 2026 for July 2025 to June 2026)."
    )


@strawberry.type(description="The result of `rollOverFiscalYear`: how many enrollments went where.")
class RollOverFiscalYearPayload(Payload):
    carried: int = held(
        default=0,
        description="ENROLLED again in the next fiscal year: still eligible, with an active PARTNER_PROGRAM "
        "agreement. Enrollments still in progress on June 30 (INVITED, ACTION_REQUIRED, "
        "VALIDATING_ENROLLMENT) end with their year: they are not carried and not counted here.",
    )
    action_required: int = held(default=0, description="Eligible, but the tax profile expired.")
    ineligible: int = held(
        default=0, description="No longer eligible, or without an active PARTNER_PROGRAM agreement."
    )
    inactive: int = held(default=0, description="The program was discontinued.")


async def _create_program(info: Info, input: CreateProgramInput) -> CreateProgramPayload | None:
    return await perform(
        info,
        CreateProgramPayload,
        lambda uow, actor: programs.create_program(
            uow,
            actor,
            code=text(input.code, "code", 32),
            name=text(input.name, "name", 200),
            criteria=input.criteria,
        ),
        lambda program: CreateProgramPayload(program=IncentiveProgram(row=program)),
    )


async def _discontinue_program(
    info: Info, input: DiscontinueProgramInput
) -> DiscontinueProgramPayload | None:
    return await perform(
        info,
        DiscontinueProgramPayload,
        lambda uow, actor: programs.discontinue_program(
            uow, actor, program_id=key(input.program_id, "IncentiveProgram", "programId")
        ),
        lambda program: DiscontinueProgramPayload(program=IncentiveProgram(row=program)),
    )


async def _record_agreement(info: Info, input: RecordAgreementInput) -> RecordAgreementPayload | None:
    return await perform(
        info,
        RecordAgreementPayload,
        lambda uow, actor: organizations.record_agreement(
            uow,
            actor,
            organization_id=key(input.organization_id, "Organization", "organizationId"),
            kind=input.kind,
            active=input.active,
            public_url=info.context.services.public_url,
        ),
        lambda org: RecordAgreementPayload(organization=Organization(row=org)),
    )


async def _set_solutions_partner_designation(
    info: Info, input: SetSolutionsPartnerDesignationInput
) -> SetSolutionsPartnerDesignationPayload | None:
    return await perform(
        info,
        SetSolutionsPartnerDesignationPayload,
        lambda uow, actor: organizations.set_solutions_partner_designation(
            uow,
            actor,
            organization_id=key(input.organization_id, "Organization", "organizationId"),
            designated=input.designated,
            public_url=info.context.services.public_url,
        ),
        lambda org: SetSolutionsPartnerDesignationPayload(organization=Organization(row=org)),
    )


async def _issue_invitations(info: Info, input: IssueInvitationsInput) -> IssueInvitationsPayload | None:
    return await perform(
        info,
        IssueInvitationsPayload,
        lambda uow, actor: invitations.issue_invitations(
            uow,
            actor,
            program_id=key(input.program_id, "IncentiveProgram", "programId"),
            fiscal_year=input.fiscal_year,
            public_url=info.context.services.public_url,
        ),
        lambda created: IssueInvitationsPayload(invitations_created=created),
        announce=lambda created: _invitations_issued(info, input) if created else None,
    )


def _invitations_issued(info: Info, input: IssueInvitationsInput) -> InvitationsIssued:
    # The use case invites for the year asked, else the current fiscal year of the same clock.
    program_id = key(input.program_id, "IncentiveProgram", "programId")
    fiscal_year = input.fiscal_year or fiscal_year_of(info.context.clock.today())
    return InvitationsIssued(program_id, fiscal_year)


async def _review_enrollment(info: Info, input: ReviewEnrollmentInput) -> ReviewEnrollmentPayload | None:
    return await perform(
        info,
        ReviewEnrollmentPayload,
        lambda uow, actor: enrollment.review_enrollment(
            uow,
            actor,
            enrollment_id=key(input.enrollment_id, "Enrollment", "enrollmentId"),
            approved=input.approved,
            reason=optional_text(input.reason, "reason", 500),
            public_url=info.context.services.public_url,
        ),
        lambda reviewed: with_enrollment(info, ReviewEnrollmentPayload, reviewed.id),
        announce=lambda reviewed: EnrollmentChanged(reviewed.id),
    )


async def _roll_over_fiscal_year(
    info: Info, input: RollOverFiscalYearInput
) -> RollOverFiscalYearPayload | None:
    return await perform(
        info,
        RollOverFiscalYearPayload,
        lambda uow, actor: rollover.roll_over_fiscal_year(
            uow, actor, from_fiscal_year=input.from_fiscal_year
        ),
        lambda result: RollOverFiscalYearPayload(
            carried=result.carried,
            action_required=result.action_required,
            ineligible=result.ineligible,
            inactive=result.inactive,
        ),
    )


@strawberry.type
class OperatorMutations:
    create_program: CreateProgramPayload | None = mutation(
        _create_program,
        "Creates an incentive program with its criteria.",
        Action.OPERATE,
    )
    discontinue_program: DiscontinueProgramPayload | None = mutation(
        _discontinue_program,
        "Discontinues a program: its enrollments show DISCONTINUED.",
        Action.OPERATE,
    )
    record_agreement: RecordAgreementPayload | None = mutation(
        _record_agreement,
        "Records an organization's agreement as active or not.",
        Action.OPERATE,
    )
    set_solutions_partner_designation: SetSolutionsPartnerDesignationPayload | None = mutation(
        _set_solutions_partner_designation,
        "Grants or withdraws an organization's Solutions Partner designation.",
        Action.OPERATE,
    )
    issue_invitations: IssueInvitationsPayload | None = mutation(
        _issue_invitations,
        "Invites every eligible location with neither an invitation nor an enrollment in the fiscal "
        "year (the current one unless `fiscalYear` names the next).",
        Action.OPERATE,
    )
    review_enrollment: ReviewEnrollmentPayload | None = mutation(
        _review_enrollment,
        "Ends validation: ENROLLED (earning from the first of this month) or back to ACTION_REQUIRED.",
        Action.OPERATE,
    )
    roll_over_fiscal_year: RollOverFiscalYearPayload | None = mutation(
        _roll_over_fiscal_year,
        "Carries the ENROLLED enrollments of a fiscal year into the next one.",
        Action.OPERATE,
    )
