"""Enrollments of locations in programs, and the invitations that precede them."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import TYPE_CHECKING, Annotated, Self

import strawberry

from api.graphql.ids import to_global_id
from api.graphql.types.base import Info, Node, field, object_type, require
from api.graphql.types.payout import PaymentProfile
from api.graphql.types.program import IncentiveProgram
from domain import model as models
from domain.access import Action, Scope, holders
from domain.fiscal import fiscal_year_of
from domain.shown_status import shown_reason
from domain.vocabulary import EnrollmentStatus, InvitationChannel

if TYPE_CHECKING:
    from api.graphql.types.location import Location

LazyLocation = Annotated["Location", strawberry.lazy("api.graphql.types.location")]


async def _program(info: Info, program_id: int) -> models.Program:
    program = await info.context.loaders.program.load(program_id)
    assert program is not None, "foreign key"
    return program


async def _location(info: Info, location_id: int) -> models.Location:
    location = await info.context.loaders.location.load(location_id)
    assert location is not None, "foreign key"
    return location


async def _scope(info: Info, location_id: int, program_id: int) -> Scope:
    location = await _location(info, location_id)
    return Scope(location.organization_id, location_id, program_id)


async def _tax_profile_valid(info: Info, enrollment: models.Enrollment) -> bool:
    """False once the location's current tax profile lapsed; loaded (batched) only for ENROLLED ones."""
    today = info.context.clock.today()
    if enrollment.status is not EnrollmentStatus.ENROLLED or enrollment.fiscal_year < fiscal_year_of(today):
        return True
    current = await info.context.loaders.current_tax_profile.load(enrollment.location_id)
    return not enrollment.tax_profile_lapsed(current, today=today)


def _wrap_location(location: models.Location) -> Location:
    from api.graphql.types.location import Location

    return Location.from_model(location)


@strawberry.type
class _LocationInProgram(Node):
    """The fields an invitation and an enrollment share: a location, a program, a fiscal year."""

    model: strawberry.Private[models.Invitation | models.Enrollment]

    @field("The incentive program.")
    async def program(self, info: Info) -> IncentiveProgram:
        return IncentiveProgram.from_model(await _program(info, self.model.program_id))

    @field("The location (its PartnerID) in the program.")
    async def location(self, info: Info) -> LazyLocation:
        return _wrap_location(await _location(info, self.model.location_id))

    @field("The fiscal year it is for: FY N runs July 1 of N-1 to June 30 of N.")
    def fiscal_year(self) -> int:
        return self.model.fiscal_year


@object_type("A location's invitation to enroll in a program for a fiscal year.", Action.READ_ENROLLMENT)
class Invitation(_LocationInProgram):
    model: strawberry.Private[models.Invitation]

    @classmethod
    def from_model(cls, invitation: models.Invitation) -> Self:
        return cls(id=to_global_id("Invitation", invitation.id), model=invitation)

    @field("How the partner was told of the invitation.")
    def channel(self) -> InvitationChannel:
        return self.model.channel


@object_type("A location's enrollment in a program for one fiscal year.", Action.READ_ENROLLMENT)
class Enrollment(_LocationInProgram):
    model: strawberry.Private[models.Enrollment]

    @classmethod
    def from_model(cls, enrollment: models.Enrollment) -> Self:
        return cls(id=to_global_id("Enrollment", enrollment.id), model=enrollment)

    @field(
        "The status as the caller may see it: the in-progress ACTION_REQUIRED and VALIDATING_ENROLLMENT "
        f"are shown as such only to {holders(Action.READ_ENROLLMENT_DETAIL)}; everyone else sees ENROLLING "
        "in their place. DISCONTINUED when the program is; ACTION_REQUIRED for an ENROLLED one of this or "
        "a later fiscal year once the location's tax profile has expired."
    )
    async def status(self, info: Info) -> EnrollmentStatus:
        program, scope, tax_valid = await asyncio.gather(
            _program(info, self.model.program_id),
            _scope(info, self.model.location_id, self.model.program_id),
            _tax_profile_valid(info, self.model),
        )
        sees_detail = info.context.principal.can(Action.READ_ENROLLMENT_DETAIL, scope)
        return self.model.shown_status(
            program_active=program.is_active, sees_detail=sees_detail, tax_profile_valid=tax_valid
        )

    @field("The first day earnings count (the first of the month it was enrolled).")
    def earnings_start_date(self) -> date | None:
        return self.model.earnings_start_date

    @field("The bank profile payouts go to; null until one is chosen.")
    async def payment_profile(self, info: Info) -> PaymentProfile | None:
        if self.model.payment_profile_id is None:
            return None
        profile = await info.context.loaders.payment_profile.load(self.model.payment_profile_id)
        return PaymentProfile.from_model(profile) if profile else None

    @field(
        "What to complete while the status is ACTION_REQUIRED; null otherwise.", Action.READ_ENROLLMENT_DETAIL
    )
    async def action_required_reason(self, info: Info) -> str | None:
        scope = await _scope(info, self.model.location_id, self.model.program_id)
        require(info, Action.READ_ENROLLMENT_DETAIL, scope)
        return shown_reason(
            self.model.status,
            self.model.action_required_reason,
            payment_profile_id=self.model.payment_profile_id,
            tax_profile_valid=await _tax_profile_valid(info, self.model),
        )
