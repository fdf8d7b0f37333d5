"""Organizations and their locations, agreements and designation (contract rules 1, 2, 13)."""

from __future__ import annotations

from domain.access import Actor
from domain.model import Location, Organization
from domain.uow import UnitOfWork
from domain.vocabulary import AgreementKind, PartnerType


async def register_organization(
    uow: UnitOfWork,
    actor: Actor,
    *,
    legal_name: str,
    country: str,
    global_partner_id: str | None,
    migration_completed: bool,
) -> Organization:
    """Rule 1: a Global admin whose tenant has no organization registers one (CONFLICT otherwise)."""
    raise NotImplementedError


async def complete_migration(uow: UnitOfWork, actor: Actor, *, organization_id: int) -> Organization:
    raise NotImplementedError


async def add_location(
    uow: UnitOfWork, actor: Actor, *, name: str, country: str, partner_type: PartnerType
) -> Location:
    """Rule 2: Global or Account admin of the caller's organization; a fresh numeric PartnerID."""
    raise NotImplementedError


async def record_agreement(
    uow: UnitOfWork, actor: Actor, *, organization_id: int, kind: AgreementKind, active: bool
) -> Organization:
    raise NotImplementedError


async def set_solutions_partner_designation(
    uow: UnitOfWork, actor: Actor, *, organization_id: int, designated: bool
) -> Organization:
    raise NotImplementedError
