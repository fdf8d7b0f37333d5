"""Payment profiles (organization level) and tax profiles (per location)."""

from __future__ import annotations

from datetime import date

from api.graphql.declared import Guard, Row
from api.graphql.fields import column
from api.graphql.types.base import Node, node_type
from domain import model as models
from domain.access import Action, Scope


def of_organization(row: Row) -> Scope:
    """Where an object of an organization is: its organization."""
    return Scope(organization_id=row.organization_id)


def at_location(row: Row) -> Scope:
    """Where an object of a location is: its organization and location."""
    return Scope(organization_id=row.organization_id, location_id=row.location_id)


@node_type(
    "An organization's bank profile for payouts.",
    Guard(Action.READ_ORGANIZATION, of_organization),
    table=models.PaymentProfile.__table__,
    reads=("organization_id",),
)
class PaymentProfile(Node):
    name: str = column("A name to tell the profile by.")
    currency: str = column("ISO 4217 code, e.g. EUR.")
    bank_account_last4: str | None = column(
        "The last four digits of the bank account.", guard=Guard(Action.READ_BANK_DETAILS, of_organization)
    )


@node_type(
    "A location's tax profile.",
    Guard(Action.READ_TAX_PROFILE, at_location),
    table=models.TaxProfile.__table__,
    reads=("location_id",),
    # Its location's organization, which its guard names.
    columns=(models.Location.organization_id.label("organization_id"),),
    joins=((models.Location, models.Location.id == models.TaxProfile.location_id),),
)
class TaxProfile(Node):
    tax_id: str = column("The tax (VAT) identification number.")
    country: str = column("ISO 3166-1 alpha-2.")
    expires_on: date = column("The profile is valid until the day before this date.")
