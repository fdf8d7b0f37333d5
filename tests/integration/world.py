"""A small world to run services in: a real database, a fixed clock, and shortcuts to set things up.

Shortcuts go through the services themselves, so the tests exercise the real rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth.principal import Principal
from domain.clock import FixedClock
from domain.model import AuditEvent, Base
from domain.services import enrollment, organizations, payout, programs
from domain.uow import UnitOfWork
from domain.vocabulary import AgreementKind, CriterionKind, PartnerType
from tests.support import actors

TODAY = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)  # fiscal year 2027
FISCAL_YEAR = 2027


@dataclass
class Org:
    """A registered organization and its Global admin."""

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

    async def count(self, model: type[Base], *where: Any) -> int:
        async with self.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    async def rows(self, model: type[Base], *where: Any) -> list[Any]:
        async with self.sessions() as session:
            return list((await session.execute(select(model).where(*where))).scalars())

    async def audit_actions(self, organization_id: int) -> list[str]:
        events = await self.rows(AuditEvent, AuditEvent.organization_id == organization_id)
        return [event.action for event in sorted(events, key=lambda e: e.id)]

    async def organization(
        self,
        *,
        migration_completed: bool = True,
        ga_email: str | None = None,
        name: str = "Contoso Ltd",
        country: str = "US",
    ) -> Org:
        tenant_id = actors.new_guid()
        registrant = actors.global_admin(tenant_id, email=ga_email)
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
        self, org: Org, name: str = "Contoso Seattle", partner_type: PartnerType = PartnerType.DIRECT_RESELLER
    ) -> int:
        location = await organizations.add_location(
            self.uow(), org.global_admin, name=name, country="US", partner_type=partner_type
        )
        org.location_ids.append(location.id)
        return location.id

    async def program(self, code: str = "CSP", criteria: Sequence[CriterionKind] = ()) -> int:
        created = await programs.create_program(
            self.uow(), self.operator, code=code, name=f"{code} incentive", criteria=criteria
        )
        return created.id

    async def agree(self, org: Org, *kinds: AgreementKind, designated: bool = False) -> None:
        for kind in kinds:
            await organizations.record_agreement(
                self.uow(), self.operator, organization_id=org.id, kind=kind, active=True
            )
        if designated:
            await organizations.set_solutions_partner_designation(
                self.uow(), self.operator, organization_id=org.id, designated=True
            )

    async def payment_profile(self, admin: Principal, name: str = "Main account") -> int:
        profile = await payout.create_payment_profile(
            self.uow(), admin, name=name, currency="USD", bank_account_number="000123456789"
        )
        return profile.id

    async def tax_profile(
        self, admin: Principal, location_id: int, expires_on: date = date(2028, 12, 31)
    ) -> int:
        profile = await payout.set_tax_profile(
            self.uow(),
            admin,
            location_id=location_id,
            tax_id="US-12-3456789",
            country="US",
            expires_on=expires_on,
        )
        return profile.id

    async def enrolled(self, org: Org, location_id: int, program_id: int, *, tax_expires: date) -> int:
        """An ENROLLED enrollment of this fiscal year, through enroll and an approved review."""
        admin = actors.incentives_admin(org.tenant_id, org.id, locations=[location_id])
        await self.tax_profile(admin, location_id, tax_expires)
        profile_id = await self.payment_profile(admin, name=f"Profile {location_id}-{program_id}")
        submitted = await enrollment.enroll(
            self.uow(), admin, location_id=location_id, program_id=program_id, payment_profile_id=profile_id
        )
        await enrollment.review_enrollment(
            self.uow(), self.operator, enrollment_id=submitted.id, approved=True, reason=None
        )
        return submitted.id
