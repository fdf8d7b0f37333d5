"""Payment profiles (organization level) and tax profiles (per location) (contract rule 11)."""

from __future__ import annotations

from datetime import date

from domain.access import Actor
from domain.model import PaymentProfile, TaxProfile
from domain.uow import UnitOfWork


async def create_payment_profile(
    uow: UnitOfWork, actor: Actor, *, name: str, currency: str, bank_account_number: str
) -> PaymentProfile:
    raise NotImplementedError


async def set_tax_profile(
    uow: UnitOfWork, actor: Actor, *, location_id: int, tax_id: str, country: str, expires_on: date
) -> TaxProfile:
    raise NotImplementedError
