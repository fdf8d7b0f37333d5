"""Partners and operators for mutation tests, built through the API itself with real tokens.

world = World(api_server, entra)
partner = world.partner()                          # a fresh tenant whose Global admin registered it
location = partner.add_location()
admin = partner.member("INCENTIVES_ADMIN", locations=[location])
world.ok(admin, "createPaymentProfile", {...}, "paymentProfile { id }")
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from tests.support import personas
from tests.support.entra import OPERATOR_TENANT_ID, RunningEntra
from tests.support.personas import Tenant

Json = dict[str, Any]
USER_ERRORS = "userErrors { field message code }"
OPEN_TO_ALL: Sequence[str] = ()


class GraphqlServer(Protocol):
    def graphql(self, query: str, variables: Json | None = None, token: str | None = None) -> Json: ...


def document(name: str, selection: str) -> str:
    """`mutation($input: NameInput!) { name(input: $input) { <selection> userErrors {...} } }`."""
    input_type = f"{name[0].upper()}{name[1:]}Input"
    return f"mutation Run($input: {input_type}!) {{ {name}(input: $input) {{ {selection} {USER_ERRORS} }} }}"


@dataclass(frozen=True)
class Caller:
    token: str
    object_id: str
    tenant_id: str


@dataclass
class World:
    api: GraphqlServer
    entra: RunningEntra

    def caller(self, tenant_id: str) -> Caller:
        """A user of the tenant with no role from the token."""
        persona = personas.user(
            self.entra, Tenant(tenant_id), email=f"{uuid.uuid4().hex[:8]}@partner.example"
        )
        return Caller(token=persona.token, object_id=persona.object_id, tenant_id=tenant_id)

    def global_admin(self, tenant_id: str | None = None) -> Caller:
        tenant = Tenant(tenant_id) if tenant_id else Tenant()
        persona = personas.global_admin(self.entra, tenant)
        return Caller(token=persona.token, object_id=persona.object_id, tenant_id=tenant.id)

    def operator(self) -> Caller:
        persona = personas.operator(self.entra)
        return Caller(token=persona.token, object_id=persona.object_id, tenant_id=OPERATOR_TENANT_ID)

    def send(self, caller: Caller, name: str, input: Json, selection: str = "") -> Json:
        """The whole response (data and errors) of mutation `name`."""
        return self.api.graphql(document(name, selection), {"input": input}, caller.token)

    def query(self, caller: Caller, query: str, variables: Json | None = None) -> Json:
        response = self.api.graphql(query, variables, caller.token)
        assert "errors" not in response, response
        data: Json = response["data"]
        return data

    def ok(self, caller: Caller, name: str, input: Json, selection: str = "") -> Json:
        """The payload of a mutation that must succeed."""
        payload = self.payload(caller, name, input, selection)
        assert payload["userErrors"] == [], payload
        return payload

    def payload(self, caller: Caller, name: str, input: Json, selection: str = "") -> Json:
        response = self.send(caller, name, input, selection)
        assert "errors" not in response, response
        result: Json = response["data"][name]
        return result

    def user_error(self, caller: Caller, name: str, input: Json, selection: str = "") -> Json:
        """The only userError of a mutation that must fail as expected."""
        payload = self.payload(caller, name, input, selection)
        assert len(payload["userErrors"]) == 1, payload
        error: Json = payload["userErrors"][0]
        return error

    def forbidden(self, caller: Caller, name: str, input: Json) -> Json:
        """The FORBIDDEN error of a mutation the caller may not run (its payload must be null)."""
        response = self.send(caller, name, input, "__typename")
        assert response["data"] == {name: None}, response
        (error,) = response["errors"]
        assert error["path"] == [name], error
        assert error["extensions"]["code"] == "FORBIDDEN", error
        found: Json = error
        return found

    def create_program(self, criteria: Sequence[str] = OPEN_TO_ALL) -> str:
        code = f"T{uuid.uuid4().hex[:12].upper()}"
        payload = self.ok(
            self.operator(),
            "createProgram",
            {"code": code, "name": f"Program {code}", "criteria": list(criteria)},
            "program { id }",
        )
        program_id: str = payload["program"]["id"]
        return program_id

    def invite(self, program_id: str) -> int:
        payload = self.ok(
            self.operator(), "issueInvitations", {"programId": program_id}, "invitationsCreated"
        )
        created: int = payload["invitationsCreated"]
        return created

    def partner(self, *, migration_completed: bool = True, legal_name: str = "Contoso Ltd") -> Partner:
        admin = self.global_admin()
        payload = self.ok(
            admin,
            "registerOrganization",
            {"legalName": legal_name, "country": "DE", "migrationCompleted": migration_completed},
            "organization { id }",
        )
        return Partner(world=self, admin=admin, organization_id=payload["organization"]["id"])


@dataclass
class Partner:
    """One organization: its tenant's Global admin, and helpers that act as that admin."""

    world: World
    admin: Caller
    organization_id: str
    locations: list[str] = field(default_factory=list)

    @property
    def tenant_id(self) -> str:
        return self.admin.tenant_id

    def add_location(self, partner_type: str = "DIRECT_RESELLER") -> str:
        name = f"Location {len(self.locations) + 1} {uuid.uuid4().hex[:6]}"
        payload = self.world.ok(
            self.admin,
            "addLocation",
            {"name": name, "country": "DE", "partnerType": partner_type},
            "location { id }",
        )
        location_id: str = payload["location"]["id"]
        self.locations.append(location_id)
        return location_id

    def caller(self, kind: str) -> Caller:
        """A new caller of this organization by role name, or "member" (no role), or "operator"."""
        if kind == "GLOBAL_ADMIN":
            return self.world.global_admin(self.tenant_id)
        if kind == "member":
            return self.user()
        if kind == "operator":
            return self.world.operator()
        return self.member(kind)

    def user(self) -> Caller:
        """A signed-in user of this tenant with no stored role."""
        return self.world.caller(self.tenant_id)

    def member(
        self, role: str, *, locations: Sequence[str] | None = None, programs: Sequence[str] | None = None
    ) -> Caller:
        """A user of this tenant holding `role` (assigned by the Global admin), over the given scope."""
        caller = self.user()
        self.assign(caller, role, locations=locations, programs=programs)
        return caller

    def assign(
        self,
        caller: Caller,
        role: str,
        *,
        locations: Sequence[str] | None = None,
        programs: Sequence[str] | None = None,
    ) -> str:
        input: Json = {"userObjectId": caller.object_id, "role": role, "displayName": "Member"}
        if locations is not None:
            input["locationIds"] = list(locations)
        if programs is not None:
            input["programIds"] = list(programs)
        payload = self.world.ok(self.admin, "assignRole", input, "roleAssignment { id }")
        assignment_id: str = payload["roleAssignment"]["id"]
        return assignment_id

    def audit_actions(self) -> list[tuple[str, str]]:
        """(action, actorObjectId) of the organization's audit log, newest first."""
        data = self.world.query(
            self.admin,
            "{ viewer { organization { auditLog(first: 100) {"
            " edges { node { action actorObjectId } } } } } }",
        )
        edges = data["viewer"]["organization"]["auditLog"]["edges"]
        return [(edge["node"]["action"], edge["node"]["actorObjectId"]) for edge in edges]


ENROLLMENTS = """
query Enrollments($id: ID!, $year: Int) { node(id: $id) { ... on Location {
  enrollments(first: 100, fiscalYear: $year) { edges { node {
    id status fiscalYear earningsStartDate program { id } paymentProfile { id } } } } } } }
"""
ENROLLMENT_FIELDS = "enrollment { id status fiscalYear earningsStartDate paymentProfile { id } }"


@dataclass
class Invited:
    """A location invited to a program, and an Incentives admin covering exactly that pair."""

    partner: Partner
    location: str
    program: str
    admin: Caller

    @property
    def world(self) -> World:
        return self.partner.world

    def payment_profile(self) -> str:
        payload = self.world.ok(
            self.admin,
            "createPaymentProfile",
            {
                "name": f"Bank {uuid.uuid4().hex[:6]}",
                "currency": "EUR",
                "bankAccountNumber": "DE89370400440532013000",
            },
            "paymentProfile { id }",
        )
        profile_id: str = payload["paymentProfile"]["id"]
        return profile_id

    def tax_profile(self, expires_on: str) -> None:
        self.world.ok(
            self.admin,
            "setTaxProfile",
            {"locationId": self.location, "taxId": "DE123456789", "country": "DE", "expiresOn": expires_on},
        )

    def enroll(self, payment_profile_id: str | None = None) -> Json:
        input: Json = {"locationId": self.location, "programId": self.program}
        if payment_profile_id is not None:
            input["paymentProfileId"] = payment_profile_id
        enrollment: Json = self.world.ok(self.admin, "enroll", input, ENROLLMENT_FIELDS)["enrollment"]
        return enrollment

    def validating(self, tax_expires_on: str) -> Json:
        """Enrolled with both profiles in place: VALIDATING_ENROLLMENT."""
        self.tax_profile(tax_expires_on)
        return self.enroll(self.payment_profile())

    def enrolled(self, tax_expires_on: str) -> Json:
        """Through validation and the operator's approval: ENROLLED."""
        enrollment = self.validating(tax_expires_on)
        reviewed: Json = self.world.ok(
            self.world.operator(),
            "reviewEnrollment",
            {"enrollmentId": enrollment["id"], "approved": True},
            ENROLLMENT_FIELDS,
        )["enrollment"]
        return reviewed

    def enrollments(self, caller: Caller | None = None, fiscal_year: int | None = None) -> list[Json]:
        """This location's enrollments in this program as `caller` (its Incentives admin) sees them."""
        data = self.world.query(caller or self.admin, ENROLLMENTS, {"id": self.location, "year": fiscal_year})
        nodes = [edge["node"] for edge in data["node"]["enrollments"]["edges"]]
        return [node for node in nodes if node["program"]["id"] == self.program]


def invite(
    world: World,
    criteria: Sequence[str] = OPEN_TO_ALL,
    *,
    partner: Partner | None = None,
    partner_type: str = "DIRECT_RESELLER",
) -> Invited:
    """A new location (of a new partner unless given) invited to a new program, with its Incentives admin.

    A program with criteria invites only eligible locations: make the partner eligible first.
    """
    partner = partner or world.partner()
    location = partner.add_location(partner_type)
    program = world.create_program(criteria)
    admin = partner.member("INCENTIVES_ADMIN", locations=[location], programs=[program])
    world.invite(program)
    return Invited(partner=partner, location=location, program=program, admin=admin)


def current_fiscal_year(world: World, caller: Caller) -> int:
    year: int = world.query(caller, "{ currentFiscalYear }")["currentFiscalYear"]
    return year
