"""Payment profiles (organization level) and tax profiles (per location)."""

from __future__ import annotations

from datetime import date
from typing import Self

import strawberry

from api.graphql.ids import to_global_id
from api.graphql.types.base import Info, Node, field, object_type, require
from domain import model as models
from domain.access import Action, Scope


@object_type("An organization's bank profile for payouts.", Action.READ_ORGANIZATION)
class PaymentProfile(Node):
    model: strawberry.Private[models.PaymentProfile]

    @classmethod
    def from_model(cls, profile: models.PaymentProfile) -> Self:
        return cls(id=to_global_id("PaymentProfile", profile.id), model=profile)

    @field("A name to tell the profile by.")
    def name(self) -> str:
        return self.model.name

    @field("ISO 4217 code, e.g. EUR.")
    def currency(self) -> str:
        return self.model.currency

    @field("The last four digits of the bank account.", Action.READ_BANK_DETAILS)
    def bank_account_last4(self, info: Info) -> str | None:
        require(info, Action.READ_BANK_DETAILS, Scope(organization_id=self.model.organization_id))
        return self.model.bank_account_last4


@object_type("A location's tax profile.", Action.READ_TAX_PROFILE)
class TaxProfile(Node):
    model: strawberry.Private[models.TaxProfile]

    @classmethod
    def from_model(cls, profile: models.TaxProfile) -> Self:
        return cls(id=to_global_id("TaxProfile", profile.id), model=profile)

    @field("The tax (VAT) identification number.")
    def tax_id(self) -> str:
        return self.model.tax_id

    @field("ISO 3166-1 alpha-2.")
    def country(self) -> str:
        return self.model.country

    @field("The profile is valid until the day before this date.")
    def expires_on(self) -> date:
        return self.model.expires_on
