"""Locations: where enrollments, eligibility and tax profiles live."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Self

import strawberry

from api.graphql.errors import ExpectedError
from api.graphql.ids import key_of, to_global_id
from api.graphql.loaders import EnrollmentFilter
from api.graphql.pagination import DEFAULT_PAGE_SIZE, After, Before, First, Last, given, paging
from api.graphql.types.base import Connection, Info, Node, connection, field, object_type, require
from api.graphql.types.enrollment import Enrollment
from api.graphql.types.payout import TaxProfile
from api.graphql.types.people import User
from domain import eligibility
from domain import model as models
from domain.access import Action, Scope
from domain.vocabulary import CriterionKind, PartnerType

if TYPE_CHECKING:
    from api.graphql.types.organization import Organization

LazyOrganization = Annotated["Organization", strawberry.lazy("api.graphql.types.organization")]


@object_type("Whether a criterion is met.", Action.READ_ORGANIZATION)
class CriterionResult:
    kind: CriterionKind = strawberry.field(description="The criterion.")
    met: bool = strawberry.field(description="Whether the location meets it.")


@object_type("Whether a location meets each eligibility criterion of a program.", Action.READ_ORGANIZATION)
class Eligibility:
    eligible: bool = strawberry.field(description="True when every criterion is met.")
    criteria: list[CriterionResult] = strawberry.field(
        description="Each of the program's criteria and whether it is met; [] for an open program."
    )

    @classmethod
    def from_result(cls, result: eligibility.Eligibility) -> Self:
        return cls(
            eligible=result.eligible,
            criteria=[CriterionResult(kind=item.kind, met=item.met) for item in result.criteria],
        )


class NotFoundError(ExpectedError):
    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": "NOT_FOUND"})


@object_type("A location (PartnerLocationID) of an organization.", Action.READ_ORGANIZATION)
class Location(Node):
    model: strawberry.Private[models.Location]

    @classmethod
    def from_model(cls, location: models.Location) -> Self:
        return cls(id=to_global_id("Location", location.id), model=location)

    @field("The location PartnerID: digits, unique across the service.")
    def partner_id(self) -> str:
        return self.model.partner_id

    @field("The location's name.")
    def name(self) -> str:
        return self.model.name

    @field("ISO 3166-1 alpha-2.")
    def country(self) -> str:
        return self.model.country

    @field("How the location sells.")
    def partner_type(self) -> PartnerType:
        return self.model.partner_type

    @field("The organization the location belongs to.")
    async def organization(self, info: Info) -> LazyOrganization:
        from api.graphql.types.organization import Organization

        found = await info.context.loaders.organization.load(self.model.organization_id)
        assert found is not None, "foreign key"
        return Organization.from_model(found)

    @field("Users whose INCENTIVES_ADMIN assignment covers this location.")
    async def incentive_admins(self, info: Info) -> list[User]:
        return [
            User.from_model(user) for user in await info.context.loaders.incentive_admins.load(self.model.id)
        ]

    @field("Whether this location meets the program's criteria; NOT_FOUND for an unknown program.")
    async def eligibility(
        self,
        info: Info,
        program_id: Annotated[strawberry.ID, strawberry.argument(description="The program's global ID.")],
    ) -> Eligibility:
        key = key_of(program_id, "IncentiveProgram")
        result = None if key is None else await info.context.loaders.eligibility.load((self.model.id, key))
        if result is None:
            raise NotFoundError("No program has this ID.")
        return Eligibility.from_result(result)

    @field(
        "The enrollments the caller may see, oldest first; the others are left out.", Action.READ_ENROLLMENT
    )
    async def enrollments(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = strawberry.UNSET,
        last: Last = strawberry.UNSET,
        before: Before = strawberry.UNSET,
        fiscal_year: Annotated[
            int | None, strawberry.argument(description="Only this fiscal year's; left out: every year.")
        ] = strawberry.UNSET,
    ) -> Connection[Enrollment]:
        args = paging(info, first, after, last, before)
        coverage = info.context.principal.coverage(Action.READ_ENROLLMENT, self.model.organization_id)
        which = EnrollmentFilter(coverage, given(fiscal_year))
        loaders = info.context.loaders
        page = await loaders.enrollments_page.load((self.model.id, (args, which)))
        return connection(
            page,
            lambda item: item.id,
            Enrollment.from_model,
            lambda: loaders.enrollments_count.load((self.model.id, which)),
        )

    @field("The current (newest) tax profile; null when none.", Action.READ_TAX_PROFILE)
    async def tax_profile(self, info: Info) -> TaxProfile | None:
        scope = Scope(organization_id=self.model.organization_id, location_id=self.model.id)
        require(info, Action.READ_TAX_PROFILE, scope)
        found = await info.context.loaders.current_tax_profile.load(self.model.id)
        return TaxProfile.from_model(found) if found else None
