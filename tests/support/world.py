"""One builder for test data: what a test starts from, written through the domain services.

    world = World(sessions)                            # a fixed clock in fiscal year 2027
    org = await world.organization()                   # registered by its tenant's Global admin
    seattle = await world.location(org)
    csp = await world.program("CSP", [CriterionKind.PARTNER_PROGRAM_AGREEMENT])
    await world.agree(org, AgreementKind.PARTNER_PROGRAM)
    await world.invite(csp)                            # as the operator issues invitations
    enrollment_id = await world.enrolled(org, seattle, csp, tax_expires=date(2028, 1, 1))

Going through the services keeps every business rule true of the data, and records the audit
events a real change records. What the services cannot reach (an enrollment of a past fiscal
year, a dead letter in the outbox, an event of a chosen actor) is written with `world.raw()`, whose
name says that the rules are bypassed. Integration tests use `World` as it is; API tests see it
through `tests.api.world.ApiWorld` (global ids and tokens).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth.authenticate import principal_of
from auth.principal import Identity, Principal
from domain.access import Role
from domain.clock import FixedClock
from domain.database import session_factory
from domain.fiscal import fiscal_year_start
from domain.model import Agreement, AuditEvent, Base, Enrollment, Invitation, OutboxMessage
from domain.services import enrollment, invitations, organizations, payout, programs, roles
from domain.uow import UnitOfWork
from domain.vocabulary import (
    AgreementKind,
    CriterionKind,
    EnrollmentStatus,
    InvitationChannel,
    OutboxStatus,
    PartnerType,
)
from tests.support import actors
from tests.support.pgbouncer import engine_for

TODAY = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)  # fiscal year 2027
FISCAL_YEAR = 2027


def year_ended(fiscal_year: int) -> datetime:
    """The first moment of FY `fiscal_year + 1`: `fiscal_year` may roll forward from then on (rule 23)."""
    return datetime.combine(fiscal_year_start(fiscal_year + 1), time(), tzinfo=UTC)


M = TypeVar("M", bound=Base)


@dataclass
class Org:
    """A registered organization and its Global admin (the one who registered it)."""

    id: int
    tenant_id: str
    global_admin: Principal
    location_ids: list[int] = field(default_factory=list)


@dataclass
class World:
    sessions: async_sessionmaker[AsyncSession]
    clock: FixedClock = field(default_factory=lambda: FixedClock(TODAY))
    operator: Principal = field(default_factory=actors.operator)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, self.clock)

    # --- reading what is there ---------------------------------------------------------------------

    async def count(self, model: type[Base], *where: Any) -> int:
        async with self.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    async def rows(self, model: type[Base], *where: Any) -> list[Any]:
        async with self.sessions() as session:
            return list((await session.execute(select(model).where(*where))).scalars())

    async def audit_actions(self, organization_id: int) -> list[str]:
        events = await self.rows(AuditEvent, AuditEvent.organization_id == organization_id)
        return [event.action for event in sorted(events, key=lambda e: e.id)]

    # --- people ------------------------------------------------------------------------------------

    async def signed_in(self, identity: Identity) -> Principal:
        """The caller `identity` is, with its stored roles, as the API's authenticator makes it."""
        return await principal_of(identity, self.uow(), self.operator.tenant_id)

    async def assign(
        self,
        org: Org,
        object_id: str,
        role: Role,
        *,
        locations: Sequence[int] | None = None,
        programs: Sequence[int] | None = None,
        name: str | None = None,
    ) -> int:
        """A stored role for a user of the organization's tenant, assigned by its Global admin."""
        assignment = await roles.assign_role(
            self.uow(),
            org.global_admin,
            user_object_id=object_id,
            display_name=name,
            email=None,
            role=role,
            location_ids=locations,
            program_ids=programs,
        )
        return assignment.id

    # --- organizations -----------------------------------------------------------------------------

    async def organization(
        self,
        *,
        migration_completed: bool = True,
        ga_email: str | None = None,
        name: str = "Contoso Ltd",
        country: str = "US",
        tenant_id: str | None = None,
        global_admin_id: str | None = None,
    ) -> Org:
        """Registered by a Global admin of a tenant of its own (new ids unless given)."""
        tenant_id = tenant_id or actors.new_guid()
        registrant = actors.global_admin(tenant_id, object_id=global_admin_id, email=ga_email)
        org = await organizations.register_organization(
            self.uow(),
            registrant,
            legal_name=name,
            country=country,
            global_partner_id=None,
            migration_completed=migration_completed,
        )
        return Org(org.id, tenant_id, actors.global_admin(tenant_id, org.id, object_id=registrant.object_id))

    async def location(
        self,
        org: Org,
        name: str = "Contoso Seattle",
        partner_type: PartnerType = PartnerType.DIRECT_RESELLER,
        *,
        country: str = "US",
    ) -> int:
        location = await organizations.add_location(
            self.uow(), org.global_admin, name=name, country=country, partner_type=partner_type
        )
        org.location_ids.append(location.id)
        return location.id

    async def agree(
        self, org: Org, *kinds: AgreementKind, designated: bool = False, active: bool = True
    ) -> None:
        """The operator records the agreements (active unless told) and, if asked, the designation."""
        for kind in kinds:
            await organizations.record_agreement(
                self.uow(), self.operator, organization_id=org.id, kind=kind, active=active
            )
        if designated:
            await organizations.set_solutions_partner_designation(
                self.uow(), self.operator, organization_id=org.id, designated=True
            )

    # --- programs and invitations ------------------------------------------------------------------

    async def program(self, code: str = "CSP", criteria: Sequence[CriterionKind] = ()) -> int:
        created = await programs.create_program(
            self.uow(), self.operator, code=code, name=f"{code} incentive", criteria=criteria
        )
        return created.id

    async def discontinue(self, program_id: int) -> None:
        await programs.discontinue_program(self.uow(), self.operator, program_id=program_id)

    async def invite(self, program_id: int) -> int:
        """The operator issues the program's invitations: every eligible location not yet invited."""
        return await invitations.issue_invitations(self.uow(), self.operator, program_id=program_id)

    # --- payout and enrollments --------------------------------------------------------------------

    async def payment_profile(
        self, admin: Principal, name: str = "Main account", *, account: str = "000123456789"
    ) -> int:
        profile = await payout.create_payment_profile(
            self.uow(), admin, name=name, currency="USD", bank_account_number=account
        )
        return profile.id

    async def tax_profile(
        self,
        admin: Principal,
        location_id: int,
        expires_on: date = date(2028, 12, 31),
        *,
        tax_id: str = "US-12-3456789",
        country: str = "US",
    ) -> int:
        profile = await payout.set_tax_profile(
            self.uow(), admin, location_id=location_id, tax_id=tax_id, country=country, expires_on=expires_on
        )
        return profile.id

    async def enroll(
        self, admin: Principal, location_id: int, program_id: int, payment_profile_id: int | None = None
    ) -> int:
        """ACTION_REQUIRED, or VALIDATING_ENROLLMENT with a valid tax profile and a payment profile."""
        submitted = await enrollment.enroll(
            self.uow(),
            admin,
            location_id=location_id,
            program_id=program_id,
            payment_profile_id=payment_profile_id,
        )
        return submitted.id

    async def review(self, enrollment_id: int, *, approved: bool = True) -> None:
        reason = None if approved else "Bank details unreadable"
        await enrollment.review_enrollment(
            self.uow(), self.operator, enrollment_id=enrollment_id, approved=approved, reason=reason
        )

    async def enrolled(self, org: Org, location_id: int, program_id: int, *, tax_expires: date) -> int:
        """An ENROLLED enrollment of this fiscal year, through enroll and an approved review."""
        admin = actors.incentives_admin(org.tenant_id, org.id, locations=[location_id])
        await self.tax_profile(admin, location_id, tax_expires)
        profile_id = await self.payment_profile(admin, name=f"Profile {location_id}-{program_id}")
        enrollment_id = await self.enroll(admin, location_id, program_id, profile_id)
        await self.review(enrollment_id)
        return enrollment_id

    # --- past the rules ----------------------------------------------------------------------------

    @asynccontextmanager
    async def raw(self) -> AsyncIterator[RawRows]:
        """Rows written straight to the tables, committed when the block ends (no rule is checked)."""
        async with self.sessions() as session, session.begin():
            yield RawRows(session, self.clock)


@asynccontextmanager
async def world_on(database_url: str) -> AsyncIterator[World]:
    """A `World` on an engine of its own, e.g. on the database of a served API."""
    engine = engine_for(database_url)
    try:
        yield World(session_factory(engine))
    finally:
        await engine.dispose()


@dataclass
class RawRows:
    """States the services cannot reach; each method says which."""

    session: AsyncSession
    clock: FixedClock

    async def add(self, row: M) -> M:
        self.session.add(row)
        await self.session.flush()
        return row

    async def lapse_agreement(self, organization_id: int, kind: AgreementKind) -> None:
        """The agreement inactive with the pending enrollments left as they are (as a lapse recorded
        before rule 18 left them): `recordAgreement` would set them INELIGIBLE."""
        await self.session.execute(
            update(Agreement)
            .where(Agreement.organization_id == organization_id, Agreement.kind == kind)
            .values(active=False)
        )

    async def enrollment(
        self,
        location_id: int,
        program_id: int,
        *,
        status: EnrollmentStatus = EnrollmentStatus.INVITED,
        fiscal_year: int = FISCAL_YEAR,
        payment_profile_id: int | None = None,
        earnings_start_date: date | None = None,
        action_required_reason: str | None = None,
    ) -> Enrollment:
        """An enrollment in any status (with no profile on it unless given), without the invitation
        or review that would have led there (e.g. ENROLLED without a payment profile)."""
        now = self.clock.now()
        return await self.add(
            Enrollment(
                location_id=location_id,
                program_id=program_id,
                fiscal_year=fiscal_year,
                status=status,
                payment_profile_id=payment_profile_id,
                earnings_start_date=earnings_start_date,
                action_required_reason=action_required_reason,
                created_at=now,
                updated_at=now,
            )
        )

    async def invitation(
        self, location_id: int, program_id: int, *, fiscal_year: int, channel: InvitationChannel
    ) -> Invitation:
        """An invitation of any fiscal year, e.g. a past one (issuing only invites for this one)."""
        return await self.add(
            Invitation(
                location_id=location_id,
                program_id=program_id,
                fiscal_year=fiscal_year,
                channel=channel,
                created_at=self.clock.now(),
            )
        )

    async def move_enrollments_to(self, fiscal_year: int) -> None:
        """Every enrollment into `fiscal_year`, e.g. a past one (services only write the current year)."""
        await self.session.execute(update(Enrollment).values(fiscal_year=fiscal_year))

    async def outbox_message(
        self,
        message_id: str,
        *,
        to: str = "admin@contoso.example",
        subject: str = "Invitation",
        body_text: str = "Hello",
        body_html: str | None = None,
        status: OutboxStatus = OutboxStatus.PENDING,
        attempts: int = 0,
        last_error: str | None = None,
        queued_at: datetime | None = None,
    ) -> OutboxMessage:
        """A message in any state of delivery (only a mail transport moves one past PENDING)."""
        now = queued_at or self.clock.now()
        return await self.add(
            OutboxMessage(
                message_id=message_id,
                to_address=to,
                subject=subject,
                body_text=body_text,
                body_html=body_html,
                status=status,
                attempts=attempts,
                last_error=last_error,
                next_attempt_at=now,
                created_at=now,
            )
        )


async def two_locations_one_enrolled(database_url: str, today: date, user: str) -> tuple[str, str]:
    """An organization of two locations, one of them enrolled (so a payment profile exists), and
    `user` its Incentives user (who may not read bank details): its tenant and its Global admin's
    object id."""
    async with world_on(database_url) as world:
        org = await world.organization()
        stockholm = await world.location(org, "Stockholm")
        await world.location(org, "Gothenburg")
        program = await world.program()
        await world.enrolled(org, stockholm, program, tax_expires=today + timedelta(days=400))
        await world.assign(org, user, Role.INCENTIVES_USER)
        return org.tenant_id, org.global_admin.object_id
