"""Users and role assignments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Self

import strawberry

from api.graphql.ids import to_global_id
from api.graphql.types.base import Info, Node, field, object_type
from api.graphql.types.program import IncentiveProgram
from domain import model as models
from domain.access import Action, Role

if TYPE_CHECKING:
    from api.graphql.types.location import Location

LazyLocation = Annotated["Location", strawberry.lazy("api.graphql.types.location")]


@object_type("An Entra ID user or service principal the service knows.", Action.READ_ORGANIZATION)
class User(Node):
    model: strawberry.Private[models.User]

    @classmethod
    def from_model(cls, user: models.User) -> Self:
        return cls(id=to_global_id("User", user.id), model=user)

    @field("The Entra ID object ID (oid).")
    def object_id(self) -> strawberry.ID:
        return strawberry.ID(self.model.object_id)

    @field("The name to show; null when unknown.")
    def display_name(self) -> str | None:
        return self.model.display_name

    @field("The user's email address; null when unknown.")
    def email(self) -> str | None:
        return self.model.email


@object_type("A stored role of a user.", Action.READ_ROLE_ASSIGNMENT)
class RoleAssignment(Node):
    model: strawberry.Private[models.RoleAssignment]

    @classmethod
    def from_model(cls, assignment: models.RoleAssignment) -> Self:
        return cls(id=to_global_id("RoleAssignment", assignment.id), model=assignment)

    @field("The user who holds the role.")
    async def user(self, info: Info) -> User:
        user = await info.context.loaders.user.load(self.model.user_id)
        assert user is not None, "assignments reference existing users (foreign key)"
        return User.from_model(user)

    @field("The role assigned.")
    def role(self) -> Role:
        return self.model.role

    @field("The locations covered; null: the entire organization, later ones included.")
    async def locations(self, info: Info) -> list[LazyLocation] | None:
        from api.graphql.types.location import Location

        if self.model.all_locations:
            return None
        loaders = info.context.loaders
        grant = await loaders.assignment_grant.load(self.model.id)
        if grant is None or grant.location_ids is None:
            return None
        found = await loaders.location.load_many(sorted(grant.location_ids))
        return [Location.from_model(location) for location in found if location]

    @field("The programs covered; null: all programs.")
    async def programs(self, info: Info) -> list[IncentiveProgram] | None:
        if self.model.all_programs:
            return None
        loaders = info.context.loaders
        grant = await loaders.assignment_grant.load(self.model.id)
        if grant is None or grant.program_ids is None:
            return None
        found = await loaders.program.load_many(sorted(grant.program_ids))
        return [IncentiveProgram.from_model(program) for program in found if program]


@object_type("An administrator of an organization known to the service.", Action.READ_ORGANIZATION)
class Contact:
    display_name: str | None = strawberry.field(description="The name to show; null when unknown.")
    email: str | None = strawberry.field(description="Where to write to them; null when unknown.")
    role: Role = strawberry.field(description="GLOBAL_ADMIN or ACCOUNT_ADMIN.")
