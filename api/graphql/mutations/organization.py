"""Partner-side mutations about the organization itself: registration, locations, roles."""

from __future__ import annotations

from dataclasses import dataclass

import strawberry

from api.graphql.directory import find_user, require_role_manager
from api.graphql.fields import held
from api.graphql.ids import to_global_id
from api.graphql.mutations.translate import (
    Payload,
    key,
    keys,
    mutation,
    optional_text,
    perform,
    text,
    user_errors,
)
from api.graphql.pagination import given
from api.graphql.types import Info, Location, Organization, RoleAssignment
from domain.access import Action, Role
from domain.errors import Invalid, UserInputError
from domain.events import CallersChanged
from domain.services import organizations, roles
from domain.vocabulary import PartnerType


@strawberry.input(description="The caller's tenant as a new organization.")
class RegisterOrganizationInput:
    legal_name: str = strawberry.field(description="The legal business name, 1 to 200 characters.")
    country: str = strawberry.field(description="ISO 3166-1 alpha-2, e.g. DE.")
    global_partner_id: str | None = strawberry.field(
        default=strawberry.UNSET, description="The existing global PartnerID, if any; else a fresh one."
    )
    migration_completed: bool = strawberry.field(
        default=True, description="False: the organization still has to complete its migration."
    )


@strawberry.type(description="The result of `registerOrganization`.")
class RegisterOrganizationPayload(Payload):
    organization: Organization | None = held(
        default=None, description="The new organization; null when there are userErrors."
    )


@strawberry.input(description="The organization whose migration is completed.")
class CompleteMigrationInput:
    organization_id: strawberry.ID = strawberry.field(description="The organization's global ID.")


@strawberry.type(description="The result of `completeMigration`.")
class CompleteMigrationPayload(Payload):
    organization: Organization | None = held(
        default=None, description="The organization, migrated; null when there are userErrors."
    )


@strawberry.input(description="A new location of the caller's organization.")
class AddLocationInput:
    name: str = strawberry.field(description="The location's name, 1 to 200 characters.")
    country: str = strawberry.field(description="ISO 3166-1 alpha-2, e.g. DE.")
    partner_type: PartnerType = strawberry.field(description="How the location sells.")


@strawberry.type(description="The result of `addLocation`.")
class AddLocationPayload(Payload):
    location: Location | None = held(
        default=None, description="The new location; null when there are userErrors."
    )


@strawberry.input(description="A role for a user of the caller's tenant, and where it applies.")
class AssignRoleInput:
    user_object_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="The Entra object ID (a GUID) of a user of the caller's tenant. "
        "Give exactly one of userObjectId and userPrincipalName.",
    )
    user_principal_name: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="In place of userObjectId: the user's sign-in name (e.g. alice@contoso.com), looked "
        "up in the caller's tenant through Microsoft Graph; the directory's display name and mail fill "
        "displayName and email unless given. NOT_FOUND when the directory has no such user.",
    )
    display_name: str | None = strawberry.field(
        default=strawberry.UNSET, description="The name to show, up to 200 characters; null: none."
    )
    email: str | None = strawberry.field(
        default=strawberry.UNSET, description="The user's email address, up to 320 characters; null: none."
    )
    role: Role = strawberry.field(description="Any role but GLOBAL_ADMIN, which comes from Entra ID.")
    location_ids: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET, description="Incentives roles only; left out: the entire organization."
    )
    program_ids: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET, description="Incentives roles only; left out: all programs."
    )


@strawberry.type(description="The result of `assignRole`.")
class AssignRolePayload(Payload):
    role_assignment: RoleAssignment | None = held(
        default=None, description="The new assignment; null when there are userErrors."
    )


@strawberry.input(description="The stored role assignment to revoke.")
class RevokeRoleInput:
    role_assignment_id: strawberry.ID = strawberry.field(description="The assignment's global ID.")


@strawberry.type(description="The result of `revokeRole`.")
class RevokeRolePayload(Payload):
    revoked_role_assignment_id: strawberry.ID | None = held(
        default=None, description="The revoked assignment's global ID; null when there are userErrors."
    )


async def _register_organization(
    info: Info, input: RegisterOrganizationInput
) -> RegisterOrganizationPayload | None:
    return await perform(
        info,
        RegisterOrganizationPayload,
        lambda uow, actor: organizations.register_organization(
            uow,
            actor,
            legal_name=text(input.legal_name, "legalName", 200),
            country=text(input.country, "country", 2),
            global_partner_id=optional_text(input.global_partner_id, "globalPartnerId", 16),
            migration_completed=input.migration_completed,
        ),
        lambda org: RegisterOrganizationPayload(organization=Organization(row=org)),
        announce=lambda _: CallersChanged(info.context.principal.tenant_id),
    )


async def _complete_migration(info: Info, input: CompleteMigrationInput) -> CompleteMigrationPayload | None:
    return await perform(
        info,
        CompleteMigrationPayload,
        lambda uow, actor: organizations.complete_migration(
            uow, actor, organization_id=key(input.organization_id, "Organization", "organizationId")
        ),
        lambda org: CompleteMigrationPayload(organization=Organization(row=org)),
    )


async def _add_location(info: Info, input: AddLocationInput) -> AddLocationPayload | None:
    return await perform(
        info,
        AddLocationPayload,
        lambda uow, actor: organizations.add_location(
            uow,
            actor,
            name=text(input.name, "name", 200),
            country=text(input.country, "country", 2),
            partner_type=input.partner_type,
            public_url=info.context.services.public_url,
        ),
        lambda location: AddLocationPayload(location=Location(row=location)),
    )


@dataclass(frozen=True)
class Assignee:
    """The user `assignRole` names, with the name and mail to remember them by."""

    object_id: str
    display_name: str | None
    email: str | None


async def _assignee(info: Info, input: AssignRoleInput) -> Assignee:
    """By `userObjectId` as given, or by `userPrincipalName` as the caller's directory knows them."""
    display_name = optional_text(input.display_name, "displayName", 200)
    email = optional_text(input.email, "email", 320)
    object_id, principal_name = given(input.user_object_id), given(input.user_principal_name)
    if principal_name is None and object_id is not None:
        return Assignee(text(object_id, "userObjectId", 36), display_name, email)
    # Before the names are checked and Graph is asked: nobody else may probe the directory.
    require_role_manager(info)
    if object_id is not None or principal_name is None:
        raise Invalid("give exactly one of userObjectId and userPrincipalName", ["userObjectId"])
    found = await find_user(info, text(principal_name, "userPrincipalName", 256))
    return Assignee(found.object_id, display_name or found.display_name or None, email or found.mail)


async def _assign_role(info: Info, input: AssignRoleInput) -> AssignRolePayload | None:
    try:
        assignee = await _assignee(info, input)
    except UserInputError as error:
        return AssignRolePayload(user_errors=user_errors(error))
    return await perform(
        info,
        AssignRolePayload,
        lambda uow, actor: roles.assign_role(
            uow,
            actor,
            user_object_id=assignee.object_id,
            display_name=assignee.display_name,
            email=assignee.email,
            role=input.role,
            location_ids=keys(input.location_ids, "Location", "locationIds"),
            program_ids=keys(input.program_ids, "IncentiveProgram", "programIds"),
            public_url=info.context.services.public_url,
        ),
        lambda assignment: AssignRolePayload(role_assignment=RoleAssignment(row=assignment)),
        announce=lambda _: CallersChanged(info.context.principal.tenant_id),
    )


async def _revoke_role(info: Info, input: RevokeRoleInput) -> RevokeRolePayload | None:
    return await perform(
        info,
        RevokeRolePayload,
        lambda uow, actor: roles.revoke_role(
            uow,
            actor,
            role_assignment_id=key(input.role_assignment_id, "RoleAssignment", "roleAssignmentId"),
            public_url=info.context.services.public_url,
        ),
        lambda revoked: RevokeRolePayload(revoked_role_assignment_id=to_global_id("RoleAssignment", revoked)),
        announce=lambda _: CallersChanged(info.context.principal.tenant_id),
    )


@strawberry.type
class OrganizationMutations:
    register_organization: RegisterOrganizationPayload | None = mutation(
        _register_organization,
        "Registers the caller's tenant as a new organization (a second one: CONFLICT).",
        Action.REGISTER_ORGANIZATION,
    )
    complete_migration: CompleteMigrationPayload | None = mutation(
        _complete_migration, "Marks the organization's migration as completed.", Action.COMPLETE_MIGRATION
    )
    add_location: AddLocationPayload | None = mutation(
        _add_location, "Adds a location, with a new PartnerID of digits.", Action.MANAGE_ORGANIZATION
    )
    assign_role: AssignRolePayload | None = mutation(
        _assign_role,
        "Assigns a role to a user of the caller's tenant (not GLOBAL_ADMIN), named by object ID "
        "or by user principal name.",
        Action.MANAGE_ROLES,
    )
    revoke_role: RevokeRolePayload | None = mutation(
        _revoke_role, "Revokes a stored role assignment.", Action.MANAGE_ROLES
    )
