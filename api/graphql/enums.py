"""The domain's vocabulary as GraphQL enums (the same Python enums, registered with Strawberry), each
value described here (the domain's enums know nothing of GraphQL)."""

from __future__ import annotations

import enum
from typing import TypeVar

import strawberry
from strawberry.types.enum import StrawberryEnumDefinition

from domain import access, vocabulary

E = TypeVar("E", bound=type[enum.Enum])


def described_enum(cls: E, description: str, values: dict[str, str]) -> E:
    """`cls` as a GraphQL enum described by `description`, each value by `values` (all of them)."""
    registered = strawberry.enum(cls, description=description)
    definition: StrawberryEnumDefinition = registered.__strawberry_definition__  # type: ignore[attr-defined]
    assert {value.name for value in definition.values} == set(values), cls
    for value in definition.values:
        value.description = values[value.name]
    return registered


Role = described_enum(
    access.Role,
    "A partner role. GLOBAL_ADMIN comes from Entra ID; the others are stored assignments.",
    {
        "GLOBAL_ADMIN": "A Global Administrator of the tenant in Entra ID (from the token, never stored).",
        "ACCOUNT_ADMIN": "Manages the organization, its locations and its users' roles.",
        "INCENTIVES_ADMIN": "Enrolls locations in programs and manages payment and tax profiles.",
        "INCENTIVES_USER": "Sees the incentives of the locations and programs it is assigned.",
    },
)
PartnerType = described_enum(
    vocabulary.PartnerType,
    "How a location sells.",
    {
        "DIRECT_RESELLER": "Sells to customers and buys from Microsoft directly (CSP direct bill).",
        "INDIRECT_PROVIDER": "A distributor: sells through indirect resellers.",
        "INDIRECT_RESELLER": "Sells to customers, buying through an indirect provider.",
    },
)
AgreementKind = described_enum(
    vocabulary.AgreementKind,
    "A partner agreement an operator records for an organization.",
    {
        "PARTNER_PROGRAM": "The Microsoft AI Cloud Partner Program (MPN) agreement.",
        "DISTRIBUTOR": "The Cloud Distributor agreement (indirect providers).",
        "RESELLER": "The Reseller agreement (direct resellers).",
    },
)
CriterionKind = described_enum(
    vocabulary.CriterionKind,
    "An eligibility criterion of a program.",
    {
        "PARTNER_PROGRAM_AGREEMENT": "The organization has an active Partner Program agreement.",
        "DISTRIBUTOR_AGREEMENT": "The organization has an active Cloud Distributor agreement.",
        "RESELLER_AGREEMENT": "The organization has an active Reseller agreement.",
        "SOLUTIONS_PARTNER_DESIGNATION": "The organization holds a Solutions Partner designation.",
    },
)
ProgramStatus = described_enum(
    vocabulary.ProgramStatus,
    "Whether a program is still offered.",
    {
        "ACTIVE": "Offered: invitations are issued and locations enroll.",
        "DISCONTINUED": "No longer offered; its enrollments are DISCONTINUED.",
    },
)
InvitationChannel = described_enum(
    vocabulary.InvitationChannel,
    "EMAIL: programs with criteria (email and home-page notice); OVERVIEW: open programs.",
    {
        "EMAIL": "An email to the organization's admins and a notice on the home page.",
        "OVERVIEW": "Listed on the incentives overview only (programs open to all partners).",
    },
)
EnrollmentStatus = described_enum(
    vocabulary.EnrollmentStatus,
    "ENROLLING is shown in place of ACTION_REQUIRED and VALIDATING_ENROLLMENT to callers who "
    "are not an INCENTIVES_ADMIN of the enrollment; DISCONTINUED when its program is.",
    {
        "INVITED": "Invited; the partner has not started enrolling.",
        "ACTION_REQUIRED": "Enrolling, but the payment or tax profile needs updating "
        "(see actionRequiredReason).",
        "VALIDATING_ENROLLMENT": "Payment and tax details complete, awaiting validation by an operator.",
        "ENROLLED": "Validated; nothing further is required.",
        "ENROLLING": "ACTION_REQUIRED or VALIDATING_ENROLLMENT, as shown to callers who are not its "
        "INCENTIVES_ADMIN.",
        "INELIGIBLE": "The location no longer meets the program's eligibility criteria (or, carried by the "
        "roll-forward, its organization has no active PARTNER_PROGRAM agreement). enroll refuses it "
        "(NOT_ELIGIBLE) until the location qualifies again and is INVITED. Never for a program open to all.",
        "INACTIVE": "Not active this fiscal year (e.g. not carried over at roll-over).",
        "DISCONTINUED": "The program is no longer offered.",
    },
)
