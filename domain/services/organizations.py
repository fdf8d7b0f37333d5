"""Organizations and their locations, agreements and designation."""

from __future__ import annotations

from sqlalchemy import func, select

from domain import audit
from domain.access import Action, Actor, Scope
from domain.caller_versions import callers_changed
from domain.errors import Conflict
from domain.mail.messages import DEFAULT_PUBLIC_URL
from domain.model import Agreement, Location, Organization, OrganizationTenant
from domain.partner_ids import allocate_free_partner_id, claim_partner_id
from domain.services.eligibility_changes import follow_eligibility
from domain.services.guards import (
    commit_or_conflict,
    flush_or_conflict,
    organization,
    own_organization,
    own_organization_id,
    require,
)
from domain.uow import UnitOfWork
from domain.users import remember_user
from domain.validation import Checks
from domain.vocabulary import AgreementKind, PartnerType

TENANT_TAKEN = "your tenant already belongs to an organization"


async def register_organization(
    uow: UnitOfWork,
    actor: Actor,
    *,
    legal_name: str,
    country: str,
    global_partner_id: str | None,
    migration_completed: bool,
) -> Organization:
    """A Global admin whose tenant has no organization registers one; a tenant belongs to at most
    one organization, so a second registration is a CONFLICT."""
    require(actor, Action.REGISTER_ORGANIZATION)
    check = Checks()
    org = Organization(
        legal_name=check.name(legal_name, "legalName", max_length=200),
        country=check.country(country),
        migration_completed=migration_completed,
        solutions_partner_designated=False,
    )
    if global_partner_id is not None:
        global_partner_id = check.partner_id(global_partner_id, "globalPartnerId")
    check.done()
    async with uow:
        if await uow.session.get(OrganizationTenant, actor.tenant_id) is not None:
            raise Conflict(TENANT_TAKEN)
        await _store_organization(uow, actor, org, global_partner_id)
        await _remember_registrant(uow, actor)
        await callers_changed(uow.session, actor.tenant_id)
        audit.record(uow, actor, "registerOrganization", org.id, org)
        await commit_or_conflict(uow, TENANT_TAKEN)
        return org


async def _store_organization(
    uow: UnitOfWork, actor: Actor, org: Organization, partner_id: str | None
) -> None:
    """The organization with its PartnerID, and the actor's tenant as its first tenant."""
    org.global_partner_id = await _global_partner_id(uow, partner_id)
    org.created_at = uow.clock.now()
    uow.session.add(org)
    await flush_or_conflict(uow, "this global PartnerID is taken", ["globalPartnerId"])
    uow.session.add(
        OrganizationTenant(tenant_id=actor.tenant_id, organization_id=org.id, added_at=org.created_at)
    )
    await flush_or_conflict(uow, TENANT_TAKEN)


async def _global_partner_id(uow: UnitOfWork, requested: str | None) -> str:
    """The requested ID unless an organization or a location holds it; else a fresh one."""
    if requested is not None:
        return await claim_partner_id(uow.session, requested, ["globalPartnerId"])
    return await allocate_free_partner_id(uow.session)


async def _remember_registrant(uow: UnitOfWork, actor: Actor) -> None:
    await remember_user(
        uow.session,
        tenant_id=actor.tenant_id,
        object_id=actor.object_id,
        display_name=actor.display_name,
        email=actor.email,
        seen_as_global_admin=True,
        seen_at=uow.clock.now(),
    )


async def complete_migration(uow: UnitOfWork, actor: Actor, *, organization_id: int) -> Organization:
    async with uow:
        org = await own_organization(uow.session, actor, organization_id)
        require(actor, Action.COMPLETE_MIGRATION, Scope(organization_id=org.id))
        org.migration_completed = True
        audit.record(uow, actor, "completeMigration", org.id, org)
        await uow.commit()
        return org


async def add_location(
    uow: UnitOfWork,
    actor: Actor,
    *,
    name: str,
    country: str,
    partner_type: PartnerType,
    public_url: str = DEFAULT_PUBLIC_URL,
) -> Location:
    """A Global or Account admin adds a location to their organization, with a fresh PartnerID of
    digits, unique across the service; if eligible, it is invited in the same transaction (rule 24)."""
    organization_id = own_organization_id(actor, Action.MANAGE_ORGANIZATION)
    require(actor, Action.MANAGE_ORGANIZATION, Scope(organization_id=organization_id))
    check = Checks()
    name = check.name(name, "name", max_length=200)
    country = check.country(country)
    check.done()
    async with uow:
        if await _location_name_taken(uow, organization_id, name):
            raise Conflict("the organization already has a location of this name", ["name"])
        partner_id = await allocate_free_partner_id(uow.session)
        location = Location(
            organization_id=organization_id,
            partner_id=partner_id,
            name=name,
            country=country,
            partner_type=partner_type,
            created_at=uow.clock.now(),
        )
        uow.session.add(location)
        await flush_or_conflict(uow, "the organization already has a location of this name", ["name"])
        audit.record(uow, actor, "addLocation", organization_id, location)
        await follow_eligibility(uow, actor, organization_id, public_url=public_url)
        await uow.commit()
        return location


async def _location_name_taken(uow: UnitOfWork, organization_id: int, name: str) -> bool:
    statement = select(func.count()).where(Location.organization_id == organization_id, Location.name == name)
    return bool((await uow.session.execute(statement)).scalar_one())


async def record_agreement(
    uow: UnitOfWork,
    actor: Actor,
    *,
    organization_id: int,
    kind: AgreementKind,
    active: bool,
    public_url: str = DEFAULT_PUBLIC_URL,
) -> Organization:
    """The operator records an agreement; eligibility follows in the same transaction (rule 18)."""
    require(actor, Action.OPERATE)
    async with uow:
        org = await organization(uow.session, organization_id)
        agreement = await uow.session.get(Agreement, (org.id, kind))
        if agreement is None:
            agreement = Agreement(organization_id=org.id, kind=kind)
            uow.session.add(agreement)
        agreement.active = active
        agreement.updated_at = uow.clock.now()
        audit.record(uow, actor, "recordAgreement", org.id, org)
        await follow_eligibility(uow, actor, org.id, public_url=public_url)
        await commit_or_conflict(uow, "the agreement was changed at the same time; try again")
        return org


async def set_solutions_partner_designation(
    uow: UnitOfWork,
    actor: Actor,
    *,
    organization_id: int,
    designated: bool,
    public_url: str = DEFAULT_PUBLIC_URL,
) -> Organization:
    """The operator sets the designation; eligibility follows in the same transaction (rule 18)."""
    require(actor, Action.OPERATE)
    async with uow:
        org = await organization(uow.session, organization_id)
        org.solutions_partner_designated = designated
        audit.record(uow, actor, "setSolutionsPartnerDesignation", org.id, org)
        await follow_eligibility(uow, actor, org.id, public_url=public_url)
        await uow.commit()
        return org
