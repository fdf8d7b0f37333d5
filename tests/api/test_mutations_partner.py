"""Partner-side mutations through the API with real tokens: rules 1, 2, 3, 11 and 13 of the contract."""

from __future__ import annotations

import pytest

from tests.api.client import Client, Json
from tests.api.world import ApiWorld, Partner
from tests.support.personas import Tenant

NOT_MIGRATED_NAME = "Fabrikam GmbH"
ORGANIZATION = "{ viewer { organization { id legalName locations { totalCount } } } }"
ASSIGNMENTS = "{ viewer { organization { roleAssignments(first: 100) { edges { node { id role } } } } } }"
PROFILES = "{ viewer { organization { paymentProfiles { id name bankAccountLast4 } } } }"
TAX_PROFILE = "query Tax($id: ID!) { node(id: $id) { ... on Location { taxProfile { taxId expiresOn } } } }"
IBAN = "DE89 3704 0044 0532 0130 00"


@pytest.fixture
def partner(world: ApiWorld) -> Partner:
    return world.partner()


def organization_of(client: Client, partner: Partner) -> Json:
    organization: Json = client.query(partner.admin, ORGANIZATION)["viewer"]["organization"]
    return organization


def assignment_ids(client: Client, partner: Partner) -> list[str]:
    edges = client.query(partner.admin, ASSIGNMENTS)["viewer"]["organization"]["roleAssignments"]["edges"]
    return [edge["node"]["id"] for edge in edges]


# Rule 1: one organization per tenant, registered by its Global admin.


def test_a_global_admin_registers_the_organization_of_their_tenant(client: Client) -> None:
    admin = client.global_admin()
    payload = client.ok(
        admin,
        "registerOrganization",
        {"legalName": "  Contoso Ltd  ", "country": "DE"},
        "organization { id legalName country migrationCompleted globalPartnerId }",
    )
    organization = payload["organization"]
    assert organization["legalName"] == "Contoso Ltd"
    assert organization["country"] == "DE"
    assert organization["migrationCompleted"] is True
    assert organization["globalPartnerId"].isdigit()
    viewer = client.query(admin, "{ viewer { organization { id } } }")["viewer"]
    assert viewer["organization"]["id"] == organization["id"]


def test_a_second_registration_from_the_same_tenant_is_a_conflict_and_changes_nothing(
    client: Client, partner: Partner
) -> None:
    another_admin = client.global_admin(partner.tenant_id)
    error = client.user_error(
        another_admin,
        "registerOrganization",
        {"legalName": "Contoso Two", "country": "FR"},
        "organization { id }",
    )
    assert error["code"] == "CONFLICT"
    assert organization_of(client, partner)["legalName"] == "Contoso Ltd"


@pytest.mark.parametrize("kind", ["plain user", "operator"])
def test_only_a_global_admin_may_register_an_organization(client: Client, kind: str) -> None:
    caller = client.operator() if kind == "operator" else client.caller(Tenant().id)
    client.forbidden(caller, "registerOrganization", {"legalName": "Nobody Inc", "country": "US"})
    assert client.query(caller, "{ viewer { organization { id } } }")["viewer"]["organization"] is None


@pytest.mark.parametrize(
    ("input", "field"),
    [
        ({"legalName": "x" * 201, "country": "DE"}, "legalName"),
        ({"legalName": "Contoso", "country": "Germany"}, "country"),
        ({"legalName": "Contoso", "country": "DE", "globalPartnerId": "1" * 17}, "globalPartnerId"),
    ],
    ids=["legal name too long", "country not ISO", "partner ID too long"],
)
def test_bad_registration_input_is_invalid_and_registers_nothing(
    client: Client, input: Json, field: str
) -> None:
    admin = client.global_admin()
    error = client.user_error(admin, "registerOrganization", input, "organization { id }")
    assert (error["code"], error["field"]) == ("INVALID", ["input", field])
    assert client.query(admin, "{ viewer { organization { id } } }")["viewer"]["organization"] is None


# Rule 2: Global and Account admins add locations, each with its own PartnerID of digits.


@pytest.mark.parametrize("kind", ["GLOBAL_ADMIN", "ACCOUNT_ADMIN"])
def test_organization_admins_add_locations_with_unique_numeric_partner_ids(
    client: Client, world: ApiWorld, partner: Partner, kind: str
) -> None:
    caller = world.caller(partner, kind)
    partner_ids = [
        client.ok(
            caller,
            "addLocation",
            {"name": f" Berlin {number} ", "country": "de", "partnerType": "INDIRECT_RESELLER"},
            "location { name country partnerType partnerId }",
        )["location"]
        for number in (1, 2)
    ]
    assert [location["name"] for location in partner_ids] == ["Berlin 1", "Berlin 2"]
    assert all(location["partnerId"].isdigit() for location in partner_ids)
    assert partner_ids[0]["partnerId"] != partner_ids[1]["partnerId"]


@pytest.mark.parametrize("kind", ["INCENTIVES_ADMIN", "INCENTIVES_USER", "member", "operator"])
def test_no_one_else_may_add_a_location(client: Client, world: ApiWorld, partner: Partner, kind: str) -> None:
    client.forbidden(
        world.caller(partner, kind),
        "addLocation",
        {"name": "Paris", "country": "FR", "partnerType": "DIRECT_RESELLER"},
    )
    assert organization_of(client, partner)["locations"]["totalCount"] == 0


def test_an_overlong_location_name_is_invalid_and_adds_nothing(client: Client, partner: Partner) -> None:
    error = client.user_error(
        partner.admin, "addLocation", {"name": "L" * 201, "country": "DE", "partnerType": "DIRECT_RESELLER"}
    )
    assert (error["code"], error["field"]) == ("INVALID", ["input", "name"])
    assert organization_of(client, partner)["locations"]["totalCount"] == 0


def test_a_global_admin_completes_the_migration_of_their_own_organization_only(
    client: Client, world: ApiWorld
) -> None:
    partner = world.partner(migration_completed=False)
    other = world.partner(migration_completed=False)
    error = client.user_error(
        partner.admin, "completeMigration", {"organizationId": other.organization_id}, "organization { id }"
    )
    assert (error["code"], error["field"]) == ("NOT_FOUND", ["input", "organizationId"])
    payload = client.ok(
        partner.admin,
        "completeMigration",
        {"organizationId": partner.organization_id},
        "organization { migrationCompleted }",
    )
    assert payload["organization"]["migrationCompleted"] is True


def test_an_incentives_admin_completes_the_migration_an_incentives_user_may_not(
    client: Client, world: ApiWorld
) -> None:
    """Rule 19 (seed 002: the Incentives admins perform the migration)."""
    partner = world.partner(migration_completed=False)
    client.forbidden(
        world.caller(partner, "INCENTIVES_USER"),
        "completeMigration",
        {"organizationId": partner.organization_id},
    )
    payload = client.ok(
        world.caller(partner, "INCENTIVES_ADMIN"),
        "completeMigration",
        {"organizationId": partner.organization_id},
        "organization { migrationCompleted }",
    )
    assert payload["organization"]["migrationCompleted"] is True


# Rule 3: Global and Account admins assign and revoke roles of their own organization.


def test_an_account_admin_assigns_an_incentives_role_scoped_to_locations_and_programs(
    client: Client, world: ApiWorld, partner: Partner
) -> None:
    location = world.location(partner)
    program = world.program()
    account_admin = world.caller(partner, "ACCOUNT_ADMIN")
    user = world.user(partner)
    payload = client.ok(
        account_admin,
        "assignRole",
        {
            "userObjectId": user.object_id,
            "role": "INCENTIVES_USER",
            "locationIds": [location],
            "programIds": [program],
            "displayName": " Ann ",
            "email": "ann@partner.example",
        },
        "roleAssignment { id role user { objectId displayName } locations { id } programs { id } }",
    )
    assignment = payload["roleAssignment"]
    assert assignment["role"] == "INCENTIVES_USER"
    assert assignment["user"] == {"objectId": user.object_id, "displayName": "Ann"}
    assert assignment["locations"] == [{"id": location}]
    assert assignment["programs"] == [{"id": program}]


def test_global_admin_cannot_be_assigned(client: Client, world: ApiWorld, partner: Partner) -> None:
    before = assignment_ids(client, partner)
    error = client.user_error(
        partner.admin, "assignRole", {"userObjectId": world.user(partner).object_id, "role": "GLOBAL_ADMIN"}
    )
    assert error["code"] == "INVALID"
    assert assignment_ids(client, partner) == before


@pytest.mark.parametrize("field", ["locationIds", "programIds"])
def test_assigning_over_another_organizations_or_unknown_ids_is_not_found_and_assigns_nothing(
    client: Client, world: ApiWorld, partner: Partner, field: str
) -> None:
    foreign_location = world.location(world.partner())
    unknown = {"locationIds": [foreign_location], "programIds": ["not-an-id"]}
    before = assignment_ids(client, partner)
    error = client.user_error(
        partner.admin,
        "assignRole",
        {"userObjectId": world.user(partner).object_id, "role": "INCENTIVES_ADMIN", field: unknown[field]},
    )
    assert (error["code"], error["field"]) == ("NOT_FOUND", ["input", field])
    assert assignment_ids(client, partner) == before


def test_a_location_id_given_as_a_program_id_is_not_found(
    client: Client, world: ApiWorld, partner: Partner
) -> None:
    location = world.location(partner)
    error = client.user_error(
        partner.admin,
        "assignRole",
        {"userObjectId": world.user(partner).object_id, "role": "INCENTIVES_ADMIN", "programIds": [location]},
    )
    assert (error["code"], error["field"]) == ("NOT_FOUND", ["input", "programIds"])


@pytest.mark.parametrize("kind", ["INCENTIVES_ADMIN", "INCENTIVES_USER", "member"])
def test_no_one_else_may_assign_or_revoke_roles(
    client: Client, world: ApiWorld, partner: Partner, kind: str
) -> None:
    assignment = world.assign(partner, world.user(partner), "INCENTIVES_USER")
    caller = world.caller(partner, kind)
    client.forbidden(
        caller, "assignRole", {"userObjectId": world.user(partner).object_id, "role": "ACCOUNT_ADMIN"}
    )
    client.forbidden(caller, "revokeRole", {"roleAssignmentId": assignment})
    assert assignment in assignment_ids(client, partner)


def test_an_operator_may_not_assign_roles_and_finds_no_partner_assignment_to_revoke(
    client: Client, world: ApiWorld, partner: Partner
) -> None:
    assignment = world.assign(partner, world.user(partner), "INCENTIVES_USER")
    client.forbidden(
        client.operator(),
        "assignRole",
        {"userObjectId": world.user(partner).object_id, "role": "ACCOUNT_ADMIN"},
    )
    error = client.user_error(client.operator(), "revokeRole", {"roleAssignmentId": assignment})
    assert error["code"] == "NOT_FOUND"
    assert assignment in assignment_ids(client, partner)


def test_an_account_admin_revokes_a_role_assignment(
    client: Client, world: ApiWorld, partner: Partner
) -> None:
    assignment = world.assign(partner, world.user(partner), "INCENTIVES_ADMIN")
    payload = client.ok(
        world.caller(partner, "ACCOUNT_ADMIN"),
        "revokeRole",
        {"roleAssignmentId": assignment},
        "revokedRoleAssignmentId",
    )
    assert payload["revokedRoleAssignmentId"] == assignment
    assert assignment not in assignment_ids(client, partner)


def test_revoking_another_organizations_assignment_is_not_found(
    client: Client, world: ApiWorld, partner: Partner
) -> None:
    other = world.partner()
    foreign = world.assign(other, world.user(other), "INCENTIVES_USER")
    error = client.user_error(partner.admin, "revokeRole", {"roleAssignmentId": foreign})
    assert (error["code"], error["field"]) == ("NOT_FOUND", ["input", "roleAssignmentId"])
    assert foreign in assignment_ids(client, other)


# Rule 11: payout data is for Incentives admins.


def test_an_incentives_admin_creates_a_payment_profile_keeping_only_the_last_four(
    client: Client, world: ApiWorld, partner: Partner
) -> None:
    admin = world.member(partner, "INCENTIVES_ADMIN", locations=[world.location(partner)])
    payload = client.ok(
        admin,
        "createPaymentProfile",
        {"name": " Main account ", "currency": "eur", "bankAccountNumber": IBAN},
        "paymentProfile { id name currency bankAccountLast4 }",
    )
    profile = payload["paymentProfile"]
    assert (profile["name"], profile["currency"], profile["bankAccountLast4"]) == (
        "Main account",
        "EUR",
        "3000",
    )


@pytest.mark.parametrize("kind", ["GLOBAL_ADMIN", "ACCOUNT_ADMIN", "INCENTIVES_USER", "member", "operator"])
def test_no_one_else_may_create_a_payment_profile(
    client: Client, world: ApiWorld, partner: Partner, kind: str
) -> None:
    client.forbidden(
        world.caller(partner, kind),
        "createPaymentProfile",
        {"name": "Main", "currency": "EUR", "bankAccountNumber": IBAN},
    )
    assert client.query(partner.admin, PROFILES)["viewer"]["organization"]["paymentProfiles"] == []


@pytest.mark.parametrize(
    ("input", "field"),
    [
        ({"name": "Main", "currency": "EUR", "bankAccountNumber": "1" * 43}, "bankAccountNumber"),
        ({"name": "N" * 101, "currency": "EUR", "bankAccountNumber": IBAN}, "name"),
        ({"name": "Main", "currency": "EURO", "bankAccountNumber": IBAN}, "currency"),
    ],
    ids=["account number too long", "name too long", "currency not ISO"],
)
def test_bad_payment_profile_input_is_invalid_and_creates_nothing(
    client: Client, world: ApiWorld, partner: Partner, input: Json, field: str
) -> None:
    admin = world.member(partner, "INCENTIVES_ADMIN")
    error = client.user_error(admin, "createPaymentProfile", input)
    assert (error["code"], error["field"]) == ("INVALID", ["input", field])
    assert client.query(partner.admin, PROFILES)["viewer"]["organization"]["paymentProfiles"] == []


def test_an_incentives_admin_sets_the_tax_profile_of_their_location(
    client: Client, world: ApiWorld, partner: Partner
) -> None:
    location = world.location(partner)
    admin = world.member(partner, "INCENTIVES_ADMIN", locations=[location])
    payload = client.ok(
        admin,
        "setTaxProfile",
        {"locationId": location, "taxId": " DE123456789 ", "country": "DE", "expiresOn": "2099-12-31"},
        "taxProfile { taxId country expiresOn }",
    )
    assert payload["taxProfile"] == {"taxId": "DE123456789", "country": "DE", "expiresOn": "2099-12-31"}
    seen = client.query(partner.admin, TAX_PROFILE, {"id": location})["node"]["taxProfile"]
    assert seen == {"taxId": "DE123456789", "expiresOn": "2099-12-31"}


@pytest.mark.parametrize("kind", ["GLOBAL_ADMIN", "ACCOUNT_ADMIN", "other location's INCENTIVES_ADMIN"])
def test_only_an_incentives_admin_of_the_location_sets_its_tax_profile(
    client: Client, world: ApiWorld, partner: Partner, kind: str
) -> None:
    location = world.location(partner)
    other_location = world.location(partner)
    caller = (
        world.member(partner, "INCENTIVES_ADMIN", locations=[other_location])
        if kind.startswith("other")
        else world.caller(partner, kind)
    )
    client.forbidden(
        caller,
        "setTaxProfile",
        {"locationId": location, "taxId": "DE1", "country": "DE", "expiresOn": "2099-12-31"},
    )
    assert client.query(partner.admin, TAX_PROFILE, {"id": location})["node"]["taxProfile"] is None


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"taxId": "T" * 65}, "INVALID", "taxId"),
        ({"locationId": "bm90LWFuLWlk"}, "NOT_FOUND", "locationId"),
    ],
    ids=["tax ID too long", "malformed location ID"],
)
def test_bad_tax_profile_input_writes_nothing(
    client: Client, world: ApiWorld, partner: Partner, change: Json, code: str, field: str
) -> None:
    location = world.location(partner)
    admin = world.member(partner, "INCENTIVES_ADMIN")
    input = {
        "locationId": location,
        "taxId": "DE123456789",
        "country": "DE",
        "expiresOn": "2099-12-31",
        **change,
    }
    error = client.user_error(admin, "setTaxProfile", input)
    assert (error["code"], error["field"]) == (code, ["input", field])
    assert client.query(partner.admin, TAX_PROFILE, {"id": location})["node"]["taxProfile"] is None


def test_a_tax_profile_for_another_organizations_location_is_not_found(
    client: Client, world: ApiWorld, partner: Partner
) -> None:
    admin = world.member(partner, "INCENTIVES_ADMIN")
    other = world.partner()
    foreign = world.location(other)
    error = client.user_error(
        admin,
        "setTaxProfile",
        {"locationId": foreign, "taxId": "DE1234", "country": "DE", "expiresOn": "2099-12-31"},
    )
    assert (error["code"], error["field"]) == ("NOT_FOUND", ["input", "locationId"])
    assert client.query(other.admin, TAX_PROFILE, {"id": foreign})["node"]["taxProfile"] is None


# Rule 13: every change is in the organization's audit log under the mutation's name.


def test_partner_mutations_are_audited_with_their_names_and_callers(client: Client, world: ApiWorld) -> None:
    partner = world.partner(migration_completed=False)
    location = world.location(partner)
    account_admin = world.caller(partner, "ACCOUNT_ADMIN")
    assignment = world.assign(partner, world.user(partner), "INCENTIVES_ADMIN", locations=[location])
    client.ok(account_admin, "revokeRole", {"roleAssignmentId": assignment})
    client.ok(partner.admin, "completeMigration", {"organizationId": partner.organization_id})
    admin = world.member(partner, "INCENTIVES_ADMIN", locations=[location])
    client.ok(admin, "createPaymentProfile", {"name": "Main", "currency": "EUR", "bankAccountNumber": IBAN})
    client.ok(
        admin,
        "setTaxProfile",
        {"locationId": location, "taxId": "DE1234", "country": "DE", "expiresOn": "2099-12-31"},
    )
    events = set(client.audit_actions(partner.admin))
    assert {
        ("registerOrganization", partner.admin.object_id),
        ("addLocation", partner.admin.object_id),
        ("assignRole", partner.admin.object_id),
        ("revokeRole", account_admin.object_id),
        ("completeMigration", partner.admin.object_id),
        ("createPaymentProfile", admin.object_id),
        ("setTaxProfile", admin.object_id),
    } <= events


def test_a_refused_mutation_leaves_no_audit_event(client: Client, world: ApiWorld, partner: Partner) -> None:
    before = client.audit_actions(partner.admin)
    client.user_error(
        partner.admin, "addLocation", {"name": " ", "country": "DE", "partnerType": "DIRECT_RESELLER"}
    )
    client.forbidden(
        world.caller(partner, "member"),
        "addLocation",
        {"name": "Rome", "country": "IT", "partnerType": "DIRECT_RESELLER"},
    )
    assert client.audit_actions(partner.admin) == before


CONTACTS = """{ viewer { organization {
  adminContacts { role displayName }
  locations { edges { node { id incentiveAdmins { objectId } } } } } } }"""


def test_admin_contacts_and_incentive_admins_are_the_organizations_own(
    client: Client, world: ApiWorld
) -> None:
    """`adminContacts`: the Global admins seen and the Account admins; `incentiveAdmins`: those whose
    INCENTIVES_ADMIN assignment covers the location. Another organization's people never appear."""
    partner = world.partner()
    covered, other_location = world.location(partner), world.location(partner)
    account_admin = world.member(partner, "ACCOUNT_ADMIN")
    incentives_admin = world.member(partner, "INCENTIVES_ADMIN", locations=[covered])
    everywhere = world.member(partner, "INCENTIVES_ADMIN")
    world.member(partner, "INCENTIVES_USER", locations=[covered])  # not an admin
    stranger = world.partner(legal_name="Fabrikam")
    world.member(stranger, "ACCOUNT_ADMIN")
    world.member(stranger, "INCENTIVES_ADMIN", locations=[world.location(stranger)])

    organization = client.query(partner.admin, CONTACTS)["viewer"]["organization"]

    roles = sorted(contact["role"] for contact in organization["adminContacts"])
    assert roles == ["ACCOUNT_ADMIN", "GLOBAL_ADMIN"]
    admins = {
        edge["node"]["id"]: sorted(user["objectId"] for user in edge["node"]["incentiveAdmins"])
        for edge in organization["locations"]["edges"]
    }
    assert admins == {
        covered: sorted([incentives_admin.object_id, everywhere.object_id]),
        other_location: [everywhere.object_id],
    }
    assert account_admin.object_id not in admins[covered]
