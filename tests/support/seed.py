"""Rows straight into the database through the ORM, for API tests that should not depend on mutations.

async with seeding(api_server.database_url) as seed:
    org = await seed.organization(tenant.id)
    lisbon = await seed.location(org, name="Lisbon")
"""

from __future__ import annotations

import itertools
import random
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import date
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from domain import model
from domain.access import Role
from domain.database import create_engine, session_factory
from domain.vocabulary import (
    AgreementKind,
    CriterionKind,
    EnrollmentStatus,
    InvitationChannel,
    PartnerType,
    ProgramStatus,
)

M = TypeVar("M", bound=model.Base)


class Seed:
    """Small async inserts; each flushes so the returned row has its id. `seeding` commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._numbers = itertools.count(random.randrange(10_000_000, 90_000_000, 1000))

    async def _add(self, row: M) -> M:
        self.session.add(row)
        await self.session.flush()
        return row

    def _number(self) -> str:
        return str(next(self._numbers))

    async def organization(
        self,
        tenant_id: str,
        *,
        legal_name: str = "Contoso Partners Ltd",
        country: str = "DE",
        migration_completed: bool = True,
        designated: bool = False,
    ) -> model.Organization:
        org = await self._add(
            model.Organization(
                global_partner_id=self._number(),
                legal_name=legal_name,
                country=country,
                migration_completed=migration_completed,
                solutions_partner_designated=designated,
            )
        )
        await self._add(model.OrganizationTenant(tenant_id=tenant_id, organization_id=org.id))
        return org

    async def location(
        self,
        org: model.Organization,
        *,
        name: str | None = None,
        country: str = "DE",
        partner_type: PartnerType = PartnerType.DIRECT_RESELLER,
    ) -> model.Location:
        number = self._number()
        return await self._add(
            model.Location(
                organization_id=org.id,
                partner_id=number,
                name=name or f"Location {number}",
                country=country,
                partner_type=partner_type,
            )
        )

    async def locations(self, org: model.Organization, count: int) -> list[model.Location]:
        return [await self.location(org) for _ in range(count)]

    async def agreement(self, org: model.Organization, kind: AgreementKind, *, active: bool = True) -> None:
        await self._add(model.Agreement(organization_id=org.id, kind=kind, active=active))

    async def program(
        self,
        *,
        code: str | None = None,
        criteria: Sequence[CriterionKind] = (),
        status: ProgramStatus = ProgramStatus.ACTIVE,
    ) -> model.Program:
        number = self._number()
        program = await self._add(
            model.Program(code=code or f"P{number}", name=f"Program {number}", status=status)
        )
        for kind in criteria:
            await self._add(model.ProgramCriterion(program_id=program.id, kind=kind))
        return program

    async def user(
        self,
        tenant_id: str,
        object_id: str,
        *,
        name: str | None = None,
        email: str | None = None,
        seen_as_global_admin: bool = False,
    ) -> model.User:
        return await self._add(
            model.User(
                tenant_id=tenant_id,
                object_id=object_id,
                display_name=name,
                email=email,
                seen_as_global_admin=seen_as_global_admin,
            )
        )

    async def assign(
        self,
        org: model.Organization,
        user: model.User,
        role: Role,
        *,
        locations: Sequence[model.Location] | None = None,
        programs: Sequence[model.Program] | None = None,
    ) -> model.RoleAssignment:
        """`locations`/`programs` None: the entire organization / all programs."""
        assignment = await self._add(
            model.RoleAssignment(
                organization_id=org.id,
                user_id=user.id,
                role=role,
                all_locations=locations is None,
                all_programs=programs is None,
            )
        )
        for location in locations or ():
            await self._add(
                model.RoleAssignmentLocation(assignment_id=assignment.id, location_id=location.id)
            )
        for program in programs or ():
            await self._add(model.RoleAssignmentProgram(assignment_id=assignment.id, program_id=program.id))
        return assignment

    async def invitation(
        self,
        location: model.Location,
        program: model.Program,
        *,
        fiscal_year: int,
        channel: InvitationChannel = InvitationChannel.EMAIL,
    ) -> model.Invitation:
        return await self._add(
            model.Invitation(
                program_id=program.id, location_id=location.id, fiscal_year=fiscal_year, channel=channel
            )
        )

    async def enrollment(
        self,
        location: model.Location,
        program: model.Program,
        *,
        fiscal_year: int,
        status: EnrollmentStatus = EnrollmentStatus.INVITED,
        payment_profile: model.PaymentProfile | None = None,
        earnings_start_date: date | None = None,
        action_required_reason: str | None = None,
    ) -> model.Enrollment:
        return await self._add(
            model.Enrollment(
                location_id=location.id,
                program_id=program.id,
                fiscal_year=fiscal_year,
                status=status,
                payment_profile_id=payment_profile.id if payment_profile else None,
                earnings_start_date=earnings_start_date,
                action_required_reason=action_required_reason,
            )
        )

    async def payment_profile(
        self,
        org: model.Organization,
        *,
        name: str = "Main account",
        currency: str = "EUR",
        last4: str = "4321",
    ) -> model.PaymentProfile:
        return await self._add(
            model.PaymentProfile(
                organization_id=org.id, name=name, currency=currency, bank_account_last4=last4
            )
        )

    async def tax_profile(
        self, location: model.Location, *, tax_id: str = "DE123456789", expires_on: date = date(2028, 1, 1)
    ) -> model.TaxProfile:
        return await self._add(
            model.TaxProfile(
                location_id=location.id, tax_id=tax_id, country=location.country, expires_on=expires_on
            )
        )

    async def audit(self, org: model.Organization, action: str, *, actor_object_id: str) -> model.AuditEvent:
        return await self._add(
            model.AuditEvent(
                organization_id=org.id, actor_tenant_id="t", actor_object_id=actor_object_id, action=action
            )
        )


@asynccontextmanager
async def seeding(database_url: str) -> AsyncIterator[Seed]:
    """A `Seed` on its own engine; everything it added is committed when the block ends."""
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            seed = Seed(session)
            yield seed
            await session.commit()
    finally:
        await engine.dispose()
