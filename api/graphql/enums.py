"""The domain's vocabulary as GraphQL enums (the same Python enums, registered with Strawberry)."""

from __future__ import annotations

import strawberry

from domain import access, vocabulary

Role = strawberry.enum(
    access.Role,
    description="A partner role. GLOBAL_ADMIN comes from Entra ID; the others are stored assignments.",
)
PartnerType = strawberry.enum(vocabulary.PartnerType, description="How a location sells.")
AgreementKind = strawberry.enum(vocabulary.AgreementKind)
CriterionKind = strawberry.enum(
    vocabulary.CriterionKind, description="An eligibility criterion of a program."
)
ProgramStatus = strawberry.enum(vocabulary.ProgramStatus)
InvitationChannel = strawberry.enum(
    vocabulary.InvitationChannel,
    description="EMAIL: programs with criteria (email and home-page notice); OVERVIEW: open programs.",
)
EnrollmentStatus = strawberry.enum(
    vocabulary.EnrollmentStatus,
    description=(
        "ENROLLING is shown in place of ACTION_REQUIRED and VALIDATING_ENROLLMENT to callers who "
        "are not an INCENTIVES_ADMIN of the enrollment; DISCONTINUED when its program is."
    ),
)
