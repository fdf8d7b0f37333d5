"""The entities, mapped to tables. Alembic migrations (not `create_all`) create the tables.

Rules that concern one entity live here as methods; rules that span several live in the
services. Constraints in the database back the rules that must hold under concurrency:
one organization per tenant, unique PartnerIDs, one enrollment per (location, program, year).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from domain.access import Role
from domain.fiscal import first_of_month
from domain.shown_status import missing_profiles_reason, shown_status, tax_profile_lapsed
from domain.vocabulary import (
    AgreementKind,
    CriterionKind,
    EnrollmentStatus,
    InvitationChannel,
    OutboxStatus,
    PartnerType,
    ProgramStatus,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
Key = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite hands back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _enum(kind: type[Any], length: int = 32) -> Enum:
    return Enum(kind, native_enum=False, length=length, create_constraint=False)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UtcDateTime()}


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    global_partner_id: Mapped[str] = mapped_column(String(16), unique=True)
    legal_name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    migration_completed: Mapped[bool] = mapped_column(Boolean)
    solutions_partner_designated: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OrganizationTenant(Base):
    """A tenant belongs to at most one organization: the tenant id is the primary key."""

    __tablename__ = "organization_tenants"

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class CallerVersion(Base):
    """How many times what a tenant's callers may do has changed (`domain.caller_versions`).

    A process remembers a caller only while this number is the one it read them at, so a change
    through any process holds on the next request to every process.
    """

    __tablename__ = "caller_versions"

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class Agreement(Base):
    __tablename__ = "agreements"

    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    kind: Mapped[AgreementKind] = mapped_column(_enum(AgreementKind), primary_key=True)
    active: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Location(Base):
    __tablename__ = "locations"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    partner_id: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    partner_type: Mapped[PartnerType] = mapped_column(_enum(PartnerType))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PartnerIdCounter(Base):
    """Hands out PartnerIDs (global and location alike) from one counter, so they never clash."""

    __tablename__ = "partner_id_counter"

    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    next_value: Mapped[int] = mapped_column(BigInteger)


class User(Base):
    """An Entra ID user or service principal the service has seen or been told about."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("tenant_id", "object_id"),)

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    object_id: Mapped[str] = mapped_column(String(36))
    display_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    # Global admin comes from the token; remembered so adminContacts can list them.
    seen_as_global_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seen_at: Mapped[datetime | None] = mapped_column()


class RoleAssignment(Base):
    __tablename__ = "role_assignments"
    # One assignment per user, role and scope, enforced by the database: of N identical concurrent
    # `assignRole`s exactly one is stored (the scope's sets live in two child tables, so their
    # canonical digest is kept here: `scope_key`).
    __table_args__ = (
        Index(
            "ux_role_assignments_user_role_scope",
            "organization_id",
            "user_id",
            "role",
            "scope_key",
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[Role] = mapped_column(_enum(Role))
    all_locations: Mapped[bool] = mapped_column(Boolean)
    all_programs: Mapped[bool] = mapped_column(Boolean)
    scope_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def scope_key(location_ids: frozenset[int] | None, program_ids: frozenset[int] | None) -> str:
    """The canonical digest of an assignment's scope (None: all)."""

    def listed(ids: frozenset[int] | None) -> str:
        return "*" if ids is None else ",".join(str(i) for i in sorted(ids))

    return hashlib.sha256(f"L:{listed(location_ids)}|P:{listed(program_ids)}".encode()).hexdigest()


class RoleAssignmentLocation(Base):
    __tablename__ = "role_assignment_locations"

    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("role_assignments.id", ondelete="CASCADE"), primary_key=True
    )
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), primary_key=True)


class RoleAssignmentProgram(Base):
    __tablename__ = "role_assignment_programs"

    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("role_assignments.id", ondelete="CASCADE"), primary_key=True
    )
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"), primary_key=True)


class Program(Base):
    __tablename__ = "programs"

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[ProgramStatus] = mapped_column(_enum(ProgramStatus), default=ProgramStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def is_active(self) -> bool:
        return self.status is ProgramStatus.ACTIVE


class ProgramCriterion(Base):
    __tablename__ = "program_criteria"

    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"), primary_key=True)
    kind: Mapped[CriterionKind] = mapped_column(_enum(CriterionKind, 40), primary_key=True)


class Invitation(Base):
    __tablename__ = "invitations"
    __table_args__ = (UniqueConstraint("location_id", "program_id", "fiscal_year"),)

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    fiscal_year: Mapped[int] = mapped_column(Integer)
    channel: Mapped[InvitationChannel] = mapped_column(_enum(InvitationChannel))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InvitationDismissal(Base):
    """A home-page notice hidden for one user only; the others who administer it still see it."""

    __tablename__ = "invitation_dismissals"

    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("invitations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    dismissed_at: Mapped[datetime] = mapped_column(default=utcnow)


class Enrollment(Base):
    __tablename__ = "enrollments"
    __table_args__ = (
        UniqueConstraint("location_id", "program_id", "fiscal_year"),
        Index("ix_enrollments_program_year_status", "program_id", "fiscal_year", "status"),
        Index("ix_enrollments_year_status", "fiscal_year", "status"),
    )

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    fiscal_year: Mapped[int] = mapped_column(Integer)
    status: Mapped[EnrollmentStatus] = mapped_column(_enum(EnrollmentStatus))
    payment_profile_id: Mapped[int | None] = mapped_column(ForeignKey("payment_profiles.id"))
    earnings_start_date: Mapped[date | None] = mapped_column(Date)
    action_required_reason: Mapped[str | None] = mapped_column(String(500))
    carried_from_id: Mapped[int | None] = mapped_column(ForeignKey("enrollments.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Every UPDATE of an enrollment names the version it read (SQLAlchemy's version counter): of N
    # concurrent transitions of one enrollment exactly one matches; the others are a Conflict.
    # Bulk UPDATEs bump it too.
    version: Mapped[int] = mapped_column(Integer, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    def submit(self, *, tax_profile_valid: bool, payment_profile_id: int | None) -> None:
        """A valid tax profile and a payment profile: VALIDATING_ENROLLMENT; else ACTION_REQUIRED."""
        if payment_profile_id is not None:
            self.payment_profile_id = payment_profile_id
        complete = tax_profile_valid and self.payment_profile_id is not None
        self.status = EnrollmentStatus.VALIDATING_ENROLLMENT if complete else EnrollmentStatus.ACTION_REQUIRED
        self.action_required_reason = (
            None if complete else missing_profiles_reason(tax_profile_valid, self.payment_profile_id)
        )

    def review(self, *, approved: bool, today: date, reason: str | None) -> None:
        """Validation ends ENROLLED or back to ACTION_REQUIRED.

        Earning starts the first of the month the enrollment first became ENROLLED; a later review
        never moves it later (rule 20), so months already earned are not lost."""
        if approved:
            self.status = EnrollmentStatus.ENROLLED
            if self.earnings_start_date is None:
                self.earnings_start_date = first_of_month(today)
            self.action_required_reason = None
        else:
            self.status = EnrollmentStatus.ACTION_REQUIRED
            self.action_required_reason = reason or "Update payment and/or tax details."

    def shown_status(
        self, *, program_active: bool, sees_detail: bool, tax_profile_valid: bool = True
    ) -> EnrollmentStatus:
        return shown_status(
            self.status,
            program_active=program_active,
            sees_detail=sees_detail,
            tax_profile_valid=tax_profile_valid,
        )

    def tax_profile_lapsed(self, current: TaxProfile | None, *, today: date) -> bool:
        expires_on = None if current is None else current.expires_on
        return tax_profile_lapsed(self.status, self.fiscal_year, expires_on, today=today)


class PaymentProfile(Base):
    """An organization-level bank profile. Only the last four digits of the account are kept."""

    __tablename__ = "payment_profiles"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    currency: Mapped[str] = mapped_column(String(3))
    bank_account_last4: Mapped[str] = mapped_column(String(4))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TaxProfile(Base):
    """A location's tax profile. Never deleted: the newest one for a location is its current one."""

    __tablename__ = "tax_profiles"

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), index=True)
    tax_id: Mapped[str] = mapped_column(String(64))
    country: Mapped[str] = mapped_column(String(2))
    expires_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set once the location's Incentives admins have been told it expires soon: they hear it once.
    expiry_reminder_sent_at: Mapped[datetime | None] = mapped_column()

    def valid_on(self, day: date) -> bool:
        return day < self.expires_on


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_org_id", "organization_id", "id"),)

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_tenant_id: Mapped[str] = mapped_column(String(36))
    actor_object_id: Mapped[str] = mapped_column(String(36))
    action: Mapped[str] = mapped_column(String(64))
    # The changed object, as (kind, key), e.g. ("Location", 12); the API turns it into a global ID.
    target_kind: Mapped[str | None] = mapped_column(String(32))
    target_key: Mapped[int | None] = mapped_column(BigInteger)


class OutboxMessage(Base):
    """An email queued in the same transaction as the change that causes it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Key, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    status: Mapped[OutboxStatus] = mapped_column(_enum(OutboxStatus), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()


class JobLock(Base):
    """One running batch job of a kind at a time (rollover, invitations) across processes.

    A holder takes the row while `expires_at` is past and keeps it alive by pushing it forward;
    a crashed holder's lease runs out and the next run takes over (the jobs are idempotent).
    """

    __tablename__ = "job_locks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    acquired_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()


class InvitationJob(Base):
    """Invitations still to issue for (program, fiscal year) in the background (rule 24): written with
    the program (or by the roll-forward for the new year), deleted once every batch is done; a crash
    leaves the row, and the next worker resumes (the issuing is idempotent)."""

    __tablename__ = "invitation_jobs"

    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"), primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column()
