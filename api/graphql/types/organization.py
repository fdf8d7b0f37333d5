"""Organizations (Partner Global Accounts), their agreements and audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Self

import strawberry

from api.graphql.ids import to_global_id
from api.graphql.pagination import DEFAULT_PAGE_SIZE, After, Before, First, Last, paging
from api.graphql.types.base import Connection, Info, Node, connection, field, object_type, require
from api.graphql.types.location import Location
from api.graphql.types.payout import PaymentProfile
from api.graphql.types.people import Contact, RoleAssignment
from domain import model as models
from domain.access import Action, Scope
from domain.vocabulary import AgreementKind

NULLABLE_WHEN_FORBIDDEN = (
    "Null (with a FORBIDDEN error at this path) for callers without the role, so the rest of "
    "the organization still reads."
)


@object_type("A partner agreement of an organization, as recorded by an operator.", Action.READ_ORGANIZATION)
class Agreement:
    kind: AgreementKind = strawberry.field(description="Which agreement.")
    active: bool = strawberry.field(description="Whether the agreement is in force.")


@object_type("A change to an organization's data: who made it, when, and to what.", Action.READ_AUDIT_LOG)
class AuditEvent:
    model: strawberry.Private[models.AuditEvent]

    @field("When, in UTC.")
    def at(self) -> datetime:
        return self.model.at

    @field("The Entra object ID of who made the change.")
    def actor_object_id(self) -> strawberry.ID:
        return strawberry.ID(self.model.actor_object_id)

    @field(
        "The display name of who made the change, as the service last saw it (from their token); "
        "null when it never learned one (operators, apps)."
    )
    async def actor_display_name(self, info: Info) -> str | None:
        return await info.context.loaders.display_name.load(
            (self.model.actor_tenant_id, self.model.actor_object_id)
        )

    @field("The mutation's name, e.g. addLocation.")
    def action(self) -> str:
        return self.model.action

    @field("The global ID of the changed object, when there is one.")
    def target_id(self) -> strawberry.ID | None:
        if self.model.target_kind is None or self.model.target_key is None:
            return None
        return to_global_id(self.model.target_kind, self.model.target_key)

    @field(
        "The changed object, when it still exists and the caller may read it; else null "
        "(`targetId` still names it)."
    )
    async def target(self, info: Info) -> Node | None:
        from api.graphql.nodes import RESOLVERS

        if self.model.target_kind is None or self.model.target_key is None:
            return None
        return await RESOLVERS[self.model.target_kind](info, self.model.target_key)


@object_type("A partner organization (Partner Global Account).", Action.READ_ORGANIZATION)
class Organization(Node):
    model: strawberry.Private[models.Organization]

    @classmethod
    def from_model(cls, organization: models.Organization) -> Self:
        return cls(id=to_global_id("Organization", organization.id), model=organization)

    @property
    def _scope(self) -> Scope:
        return Scope(organization_id=self.model.id)

    @field("The global PartnerID: digits.")
    def global_partner_id(self) -> str:
        return self.model.global_partner_id

    @field("The legal business name.")
    def legal_name(self) -> str:
        return self.model.legal_name

    @field("ISO 3166-1 alpha-2.")
    def country(self) -> str:
        return self.model.country

    @field("False until the organization completes its migration; enrolling needs it.")
    def migration_completed(self) -> bool:
        return self.model.migration_completed

    @field("Whether the organization holds a Solutions Partner designation (recorded by an operator).")
    def has_solutions_partner_designation(self) -> bool:
        return self.model.solutions_partner_designated

    @field("The organization's partner agreements, active or not.")
    async def agreements(self, info: Info) -> list[Agreement]:
        found = await info.context.loaders.agreements.load(self.model.id)
        return [Agreement(kind=item.kind, active=item.active) for item in found]

    @field("The organization's Global and Account admins known to the service.")
    async def admin_contacts(self, info: Info) -> list[Contact]:
        found = await info.context.loaders.admin_contacts.load(self.model.id)
        return [Contact(display_name=item.display_name, email=item.email, role=item.role) for item in found]

    @field("The organization's locations, oldest first.")
    async def locations(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = strawberry.UNSET,
        last: Last = strawberry.UNSET,
        before: Before = strawberry.UNSET,
    ) -> Connection[Location]:
        args = paging(info, first, after, last, before)
        loaders = info.context.loaders
        page = await loaders.locations_page.load((self.model.id, args))
        return connection(
            page,
            lambda item: item.id,
            Location.from_model,
            lambda: loaders.locations_count.load(self.model.id),
        )

    @field(f"Every stored role assignment. {NULLABLE_WHEN_FORBIDDEN}", Action.READ_ROLE_ASSIGNMENTS)
    async def role_assignments(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = strawberry.UNSET,
        last: Last = strawberry.UNSET,
        before: Before = strawberry.UNSET,
    ) -> Connection[RoleAssignment] | None:
        require(info, Action.READ_ROLE_ASSIGNMENTS, self._scope)
        args = paging(info, first, after, last, before)
        loaders = info.context.loaders
        page = await loaders.assignments_page.load((self.model.id, args))
        return connection(
            page,
            lambda item: item.id,
            RoleAssignment.from_model,
            lambda: loaders.assignments_count.load(self.model.id),
        )

    @field("The organization's bank profiles for payouts.")
    async def payment_profiles(self, info: Info) -> list[PaymentProfile]:
        found = await info.context.loaders.payment_profiles.load(self.model.id)
        return [PaymentProfile.from_model(item) for item in found]

    @field(f"Who changed what, newest first. {NULLABLE_WHEN_FORBIDDEN}", Action.READ_AUDIT_LOG)
    async def audit_log(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = strawberry.UNSET,
        last: Last = strawberry.UNSET,
        before: Before = strawberry.UNSET,
    ) -> Connection[AuditEvent] | None:
        require(info, Action.READ_AUDIT_LOG, self._scope)
        args = paging(info, first, after, last, before, descending=True)
        loaders = info.context.loaders
        page = await loaders.audit_page.load((self.model.id, args))
        return connection(
            page,
            lambda item: item.id,
            lambda item: AuditEvent(model=item),
            lambda: loaders.audit_count.load(self.model.id),
        )
