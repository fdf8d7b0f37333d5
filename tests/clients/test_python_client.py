"""The Python client ariadne-codegen generates from schema.graphql and the kept operations
(clients/ariadne-codegen.toml, run in its own venv), imported here and run against the API served
over HTTP, with real tokens from the loopback Entra and Graph routed to it. The API enforces trusted
documents (INCENTIVES_TRUSTED_DOCUMENTS=enforce): the client sends each operation's id, never its
text (clients/python/trusted_client.py)."""

from __future__ import annotations

import ast
import importlib
import json
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from api.trusted.manifest import load
from domain.model import Location, Program
from tests.api.client import Caller
from tests.api.world import ApiWorld, key
from tests.clients.paths import CLIENTS
from tests.clients.tools import ariadne_codegen, run
from tests.support.entra import RunningEntra
from tests.support.personas import new_guid
from tests.support.server import CURRENT_FISCAL_YEAR, TODAY, ApiServer

PACKAGE = "incentives_client"
TARGET_LINE = 'target_package_path = "generated/python"'
TAX_EXPIRES = date(2029, 6, 30)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The generated package, written to a temporary directory and imported in this venv."""
    codegen = ariadne_codegen()
    target = tmp_path_factory.mktemp("ariadne")
    settings = (CLIENTS / "ariadne-codegen.toml").read_text(encoding="utf-8")
    assert TARGET_LINE in settings
    config = target / "ariadne-codegen.toml"
    config.write_text(settings.replace(TARGET_LINE, f'target_package_path = "{target}"'), encoding="utf-8")
    made = run(codegen, "--config", config)
    assert made.returncode == 0, made.stdout + made.stderr
    sys.path.insert(0, str(target))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(target))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


@pytest.fixture
def api_server_with_graph(enforcing_server: ApiServer) -> ApiServer:
    """Every test here against the API enforcing trusted documents for partner callers."""
    return enforcing_server


def generated_queries(generated: ModuleType) -> list[str]:
    """Each operation's text as the generated client holds it (the `gql("...")` in client.py)."""
    source = (Path(str(generated.__file__)).parent / "client.py").read_text(encoding="utf-8")
    calls = [node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Call)]
    texts = [call.args[0] for call in calls if isinstance(call.func, ast.Name) and call.func.id == "gql"]
    return [text.value for text in texts if isinstance(text, ast.Constant) and isinstance(text.value, str)]


@asynccontextmanager
async def signed_in(generated: ModuleType, server: ApiServer, caller: Caller) -> AsyncIterator[Any]:
    """The generated `IncentivesClient` for `caller`, sending its token to the served API."""
    headers = {"Authorization": f"Bearer {caller.token}"}
    async with generated.IncentivesClient(url=f"{server.url}/graphql", headers=headers) as client:
        yield client


def test_each_operation_of_the_generated_client_is_a_trusted_document(generated: ModuleType) -> None:
    queries = generated_queries(generated)
    trusted = load()

    assert len(queries) >= 12
    untrusted = [query for query in queries if generated.trusted_client.document_id(query) not in trusted]
    assert [query.split("{")[0].strip() for query in untrusted] == []


async def test_the_client_sends_ids_where_its_callers_text_is_refused(
    generated: ModuleType, api_server_with_graph: ApiServer, world: ApiWorld
) -> None:
    partner = world.partner()
    sent: list[dict[str, Any]] = []

    async def record(request: httpx.Request) -> None:
        sent.append(json.loads(request.content))

    hooks = {"request": [record]}
    headers = {"Authorization": f"Bearer {partner.admin.token}"}
    async with httpx.AsyncClient(headers=headers, event_hooks=hooks) as http:
        client = generated.IncentivesClient(url=f"{api_server_with_graph.url}/graphql", http_client=http)
        roles = await client.role_assignments()
        own = await http.post(f"{api_server_with_graph.url}/graphql", json={"query": "{ viewer { roles } }"})

    assert roles.viewer.organization is not None
    by_id, by_text = sent
    assert set(by_id) == {"documentId", "operationName", "variables"}
    assert by_id["documentId"] in load()
    assert "query" in by_text  # the caller's own document, as text
    assert [error["extensions"]["code"] for error in own.json()["errors"]] == ["PERSISTED_QUERY_REQUIRED"]


def test_the_generated_models_type_date_and_datetime_as_python_dates(generated: ModuleType) -> None:
    assert generated.SetTaxProfileInput.model_fields["expires_on"].annotation is date
    audit_event = generated.RecentChangesViewerOrganizationAuditLogEdgesNode
    assert audit_event.model_fields["at"].annotation is datetime


async def test_the_dashboard_lists_the_organizations_locations_and_their_enrollments(
    generated: ModuleType, api_server_with_graph: ApiServer, world: ApiWorld
) -> None:
    invited = world.invited()
    partner = invited.partner
    world.location(partner)
    world.validating(invited, "2099-12-31")
    stored = await world.builder.rows(Location, Location.organization_id == partner.org.id)
    (program,) = await world.builder.rows(Program, Program.id == key(invited.program, "IncentiveProgram"))

    async with signed_in(generated, api_server_with_graph, partner.admin) as client:
        dashboard = await client.dashboard()

    locations = [edge.node for edge in dashboard.viewer.organization.locations.edges]
    assert [(node.partner_id, node.name) for node in locations] == [
        (row.partner_id, row.name) for row in sorted(stored, key=lambda row: row.id)
    ]
    first, second = ([edge.node for edge in node.enrollments.edges] for node in locations)
    # The Global admin sees the validation in progress as ENROLLING; the new location was not invited.
    assert [(e.status, e.fiscal_year) for e in first] == [
        (generated.EnrollmentStatus.ENROLLING, CURRENT_FISCAL_YEAR)
    ]
    assert (first[0].program.code, first[0].program.name) == (program.code, program.name)
    assert second == []


async def test_the_home_page_lists_an_invitation_until_it_is_dismissed(
    generated: ModuleType, api_server_with_graph: ApiServer, world: ApiWorld
) -> None:
    partner = world.partner()
    world.agree(partner, "PARTNER_PROGRAM")
    invited = world.invited(["PARTNER_PROGRAM_AGREEMENT"], partner=partner)

    async with signed_in(generated, api_server_with_graph, invited.admin) as client:
        home = await client.home_invitations()
        (notice,) = home.viewer.invitations
        dismissed = await client.dismiss_invitation(notice.id)
        after = await client.home_invitations()

    assert home.current_fiscal_year == CURRENT_FISCAL_YEAR
    assert (notice.location.id, notice.program.id) == (invited.location, invited.program)
    assert (notice.channel, notice.fiscal_year) == (generated.InvitationChannel.EMAIL, CURRENT_FISCAL_YEAR)
    assert dismissed.dismiss_invitation.user_errors == []
    assert dismissed.dismiss_invitation.invitation.id == notice.id
    assert after.viewer.invitations == []


async def test_an_incentives_admin_enrolls_and_completes_the_enrollment(
    generated: ModuleType, api_server_with_graph: ApiServer, world: ApiWorld
) -> None:
    invited = world.invited()
    location, program = invited.location, invited.program

    async with signed_in(generated, api_server_with_graph, invited.admin) as client:
        before = await client.enrollment_form(location, program)
        taxed = await client.set_tax_profile(
            generated.SetTaxProfileInput(
                location_id=location, tax_id="DE123456789", country="DE", expires_on=TAX_EXPIRES
            )
        )
        bank = await client.create_payment_profile(
            generated.CreatePaymentProfileInput(
                name="Main", currency="EUR", bank_account_number="DE89370400440532013000"
            )
        )
        enrolled = await client.enroll(generated.EnrollInput(location_id=location, program_id=program))
        profile_id = bank.create_payment_profile.payment_profile.id
        completed = await client.complete_enrollment(enrolled.enroll.enrollment.id, profile_id)
        after = await client.enrollment_form(location, program)

    assert (before.location.typename__, before.location.eligibility.eligible) == ("Location", True)
    assert before.location.tax_profile is None
    assert taxed.set_tax_profile.tax_profile.expires_on == TAX_EXPIRES
    assert bank.create_payment_profile.payment_profile.bank_account_last_4 == "3000"
    enrollment = enrolled.enroll.enrollment
    assert (enrollment.status, enrollment.earnings_start_date) == (
        generated.EnrollmentStatus.ACTION_REQUIRED,
        None,
    )
    assert enrollment.action_required_reason
    assert completed.update_enrollment.user_errors == []
    assert completed.update_enrollment.enrollment.status == generated.EnrollmentStatus.VALIDATING_ENROLLMENT
    assert completed.update_enrollment.enrollment.payment_profile.id == profile_id
    assert after.location.tax_profile.expires_on == TAX_EXPIRES
    assert [p.bank_account_last_4 for p in after.viewer.organization.payment_profiles] == ["3000"]


async def test_a_global_admin_assigns_a_role_to_a_user_picked_from_the_directory(
    generated: ModuleType, api_server_with_graph: ApiServer, world: ApiWorld, entra: RunningEntra
) -> None:
    partner = world.partner()
    lisbon = world.location(partner)
    upn = f"alice.{uuid.uuid4().hex[:6]}@contoso.example"
    alice = entra.entra.add_directory_user(
        partner.tenant_id, new_guid(), upn, "Alice Walker", "alice@contoso.example"
    )
    incentives_user = generated.Role.INCENTIVES_USER

    async with signed_in(generated, api_server_with_graph, partner.admin) as client:
        picked = await client.pick_directory_user("alice")
        (option,) = picked.directory_users
        assigned = await client.assign_role_by_sign_in_name(
            option.user_principal_name, incentives_user, [lisbon]
        )
        unknown = await client.assign_role_by_sign_in_name("nobody@contoso.example", incentives_user)
        listed = await client.role_assignments()
        changes = await client.recent_changes()

    assert (option.object_id, option.display_name, option.user_principal_name) == (
        alice.object_id,
        "Alice Walker",
        upn,
    )
    payload = assigned.assign_role
    assert payload.user_errors == []
    row = payload.role_assignment
    assert (row.role, row.user.object_id, row.user.display_name) == (
        incentives_user,
        alice.object_id,
        "Alice Walker",
    )
    assert ([location.id for location in row.locations], row.programs) == ([lisbon], None)
    (refusal,) = unknown.assign_role.user_errors
    assert refusal.code == generated.UserErrorCode.NOT_FOUND
    assert [edge.node.id for edge in listed.viewer.organization.role_assignments.edges] == [row.id]
    events = [edge.node for edge in changes.viewer.organization.audit_log.edges]
    newest = events[0]  # newest first; registering and adding the location came before
    assert (newest.action, newest.at, newest.target_id) == ("assignRole", TODAY, row.id)
    assert all(isinstance(event.at, datetime) and event.at.tzinfo is not None for event in events)
