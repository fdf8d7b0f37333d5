"""The names of the business, shared by every layer (they become the GraphQL enums).

The roles are named with the access policy, in `domain.access`.
"""

from __future__ import annotations

import enum


class PartnerType(enum.StrEnum):
    DIRECT_RESELLER = "DIRECT_RESELLER"
    INDIRECT_PROVIDER = "INDIRECT_PROVIDER"
    INDIRECT_RESELLER = "INDIRECT_RESELLER"


class AgreementKind(enum.StrEnum):
    PARTNER_PROGRAM = "PARTNER_PROGRAM"
    DISTRIBUTOR = "DISTRIBUTOR"
    RESELLER = "RESELLER"


class CriterionKind(enum.StrEnum):
    PARTNER_PROGRAM_AGREEMENT = "PARTNER_PROGRAM_AGREEMENT"
    DISTRIBUTOR_AGREEMENT = "DISTRIBUTOR_AGREEMENT"
    RESELLER_AGREEMENT = "RESELLER_AGREEMENT"
    SOLUTIONS_PARTNER_DESIGNATION = "SOLUTIONS_PARTNER_DESIGNATION"


class ProgramStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    DISCONTINUED = "DISCONTINUED"


class InvitationChannel(enum.StrEnum):
    EMAIL = "EMAIL"
    OVERVIEW = "OVERVIEW"


class EnrollmentStatus(enum.StrEnum):
    """Stored statuses plus the two that are only ever shown (ENROLLING, DISCONTINUED)."""

    INVITED = "INVITED"
    ACTION_REQUIRED = "ACTION_REQUIRED"
    VALIDATING_ENROLLMENT = "VALIDATING_ENROLLMENT"
    ENROLLED = "ENROLLED"
    ENROLLING = "ENROLLING"
    INELIGIBLE = "INELIGIBLE"
    INACTIVE = "INACTIVE"
    DISCONTINUED = "DISCONTINUED"


class OutboxStatus(enum.StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    DEAD = "DEAD"
