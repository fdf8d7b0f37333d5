"""A thin client of the API for tests: callers with real tokens, mutations sent, outcomes asserted.

    client = Client(api, entra)
    admin = client.global_admin()                                  # a new tenant's Global admin
    client.ok(admin, "registerOrganization", {...}, "organization { id }")   # no userErrors
    client.forbidden(client.operator(), "addLocation", {...})                # FORBIDDEN, payload null

It builds nothing: a test's starting world comes from the builder (`tests.api.world.ApiWorld`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from tests.support import personas
from tests.support.entra import OPERATOR_TENANT_ID, RunningEntra
from tests.support.personas import Tenant

Json = dict[str, Any]
USER_ERRORS = "userErrors { field message code }"
ENROLLMENTS = """
query Enrollments($id: ID!, $year: Int) { node(id: $id) { ... on Location {
  enrollments(first: 100, fiscalYear: $year) { edges { node {
    id status fiscalYear earningsStartDate program { id } paymentProfile { id } } } } } } }
"""
ENROLLMENT_FIELDS = "enrollment { id status fiscalYear earningsStartDate paymentProfile { id } }"
AUDIT_LOG = """{ viewer { organization { auditLog(first: 100) {
  edges { node { action actorObjectId } } } } } }"""


class GraphqlApi(Protocol):
    """What `InProcessApi` and the served `ApiServer` both answer."""

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
class Client:
    api: GraphqlApi
    entra: RunningEntra

    # --- who calls ---------------------------------------------------------------------------------

    def caller(self, tenant_id: str, object_id: str | None = None) -> Caller:
        """A user of the tenant with no role from the token (stored assignments may give it some)."""
        persona = personas.user(
            self.entra,
            Tenant(tenant_id),
            object_id=object_id,
            email=f"{uuid.uuid4().hex[:8]}@partner.example",
        )
        return Caller(token=persona.token, object_id=persona.object_id, tenant_id=tenant_id)

    def global_admin(self, tenant_id: str | None = None, object_id: str | None = None) -> Caller:
        """A Global admin of the tenant (a new one unless given), by the token's `wids`."""
        tenant = Tenant(tenant_id) if tenant_id else Tenant()
        persona = personas.global_admin(self.entra, tenant, object_id=object_id)
        return Caller(token=persona.token, object_id=persona.object_id, tenant_id=tenant.id)

    def operator(self) -> Caller:
        persona = personas.operator(self.entra)
        return Caller(token=persona.token, object_id=persona.object_id, tenant_id=OPERATOR_TENANT_ID)

    # --- sending -----------------------------------------------------------------------------------

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

    # --- reading -----------------------------------------------------------------------------------

    def audit_actions(self, admin: Caller) -> list[tuple[str, str]]:
        """(action, actorObjectId) of the admin's organization's audit log, newest first."""
        edges = self.query(admin, AUDIT_LOG)["viewer"]["organization"]["auditLog"]["edges"]
        return [(edge["node"]["action"], edge["node"]["actorObjectId"]) for edge in edges]

    def enrollments(
        self, caller: Caller, location: str, program: str, fiscal_year: int | None = None
    ) -> list[Json]:
        """The location's enrollments in the program as `caller` sees them."""
        data = self.query(caller, ENROLLMENTS, {"id": location, "year": fiscal_year})
        nodes = [edge["node"] for edge in data["node"]["enrollments"]["edges"]]
        return [node for node in nodes if node["program"]["id"] == program]

    def current_fiscal_year(self, caller: Caller) -> int:
        year: int = self.query(caller, "{ currentFiscalYear }")["currentFiscalYear"]
        return year
