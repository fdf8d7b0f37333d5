"""The whole product, end to end: `incentives serve` as a process, real HTTP, real signed tokens.

A Global admin registers an organization and its locations and hands out roles; the operator
sets up a program and invites; the Incentives admin enrolls; the operator approves and rolls
the fiscal year forward; another tenant sees none of it.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from auth.principal import GLOBAL_ADMINISTRATOR_WID, OPERATOR_APP_ROLE
from tests.e2e.harness import (
    GraphQL,
    Running,
    environment,
    error_codes,
    incentives,
    on_clock,
    running,
)
from tests.support.entra import API_CLIENT_ID, OPERATOR_TENANT_ID, RunningEntra
from tests.support.ports import free_port

pytestmark = pytest.mark.e2e

# Contoso is in Sweden, so its invitation emails are in Swedish, followed by the contract's subject.
INVITATION_SUBJECT = (
    "Inbjudan till registrering i partnerincitamentsprogram (Partner Incentive Enrollment Invitation)"
)
ALL_CRITERIA = [
    "PARTNER_PROGRAM_AGREEMENT",
    "DISTRIBUTOR_AGREEMENT",
    "RESELLER_AGREEMENT",
    "SOLUTIONS_PARTNER_DESIGNATION",
]

INVITATIONS = "{ viewer { invitations { id fiscalYear channel location { id } program { id } } } }"
ENROLLMENT_AS_SEEN = """query($id: ID!) { node(id: $id) { ... on Enrollment {
  status paymentProfile { name bankAccountLast4 } } } }"""
NEXT_YEAR_ENROLLMENTS = """query($id: ID!, $year: Int!) { node(id: $id) { ... on Location {
  enrollments(fiscalYear: $year) { totalCount edges { node { fiscalYear status program { id } } } } } } }"""
ROLL_OVER = """mutation($input: RollOverFiscalYearInput!) {
  rollOverFiscalYear(input: $input) { carried userErrors { field code } } }"""
LOOK_AROUND = """query($org: ID!, $location: ID!, $enrollment: ID!) {
  org: node(id: $org) { id } location: node(id: $location) { id } enrollment: node(id: $enrollment) { id }
  viewer { organization { legalName } } }"""


@dataclass(frozen=True)
class User:
    tenant_id: str
    object_id: str
    name: str
    email: str
    token: str


@dataclass(frozen=True)
class Cast:
    global_admin: User
    incentives_admin: User
    incentives_user: User
    operator: User
    stranger: User  # a Global admin of another tenant


@dataclass(frozen=True)
class Server:
    process: Running
    api: GraphQL
    database: Path


def _user(
    entra: RunningEntra, tenant_id: str, name: str, roles: tuple[str, ...] = (), wids: tuple[str, ...] = ()
) -> User:
    object_id = str(uuid.uuid4())
    email = f"{name.split()[0].lower()}@{tenant_id[:8]}.example"
    token = entra.mint(
        tenant_id=tenant_id, object_id=object_id, roles=roles, wids=wids, name=name, email=email
    )
    return User(tenant_id, object_id, name, email, token)


@pytest.fixture
def cast(entra: RunningEntra) -> Cast:
    partner, other = str(uuid.uuid4()), str(uuid.uuid4())
    return Cast(
        global_admin=_user(entra, partner, "Astrid Lindqvist", wids=(GLOBAL_ADMINISTRATOR_WID,)),
        incentives_admin=_user(entra, partner, "Maja Berg"),
        incentives_user=_user(entra, partner, "Lars Nilsson"),
        operator=_user(entra, OPERATOR_TENANT_ID, "Olivia Okafor", roles=(OPERATOR_APP_ROLE,)),
        stranger=_user(entra, other, "Camille Martin", wids=(GLOBAL_ADMINISTRATOR_WID,)),
    )


@pytest.fixture
def server(tmp_path: Path, entra: RunningEntra) -> Iterator[Server]:
    database = tmp_path / "story.db"
    port = free_port()
    env = environment(
        DATABASE_URL=f"sqlite+aiosqlite:///{database}",
        AZURE_AUTHORITY_HOST=entra.base_url,
        AZURE_CLIENT_ID=API_CLIENT_ID,
        AZURE_TENANT_ID=OPERATOR_TENANT_ID,
        INCENTIVES_PUBLIC_URL=f"http://127.0.0.1:{port}",
    )
    migrated = incentives("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    with running("serve", "--port", str(port), env=env, log=tmp_path / "serve.log") as process:
        base_url = f"http://127.0.0.1:{port}"
        process.wait_until_healthy(base_url)
        api = GraphQL(base_url)
        try:
            yield Server(process, api, database)
        finally:
            api.close()


def test_a_partner_enrolls_a_location_and_the_enrollment_rolls_into_the_next_fiscal_year(
    server: Server, cast: Cast
) -> None:
    api = server.api
    org_id, locations = _global_admin_registers_the_organization_with_three_locations(api, cast)
    stockholm = locations["DIRECT_RESELLER"]
    _global_admin_assigns_incentives_roles(api, cast, stockholm)
    fiscal_year = api.data(cast.operator.token, "{ currentFiscalYear }")["currentFiscalYear"]
    program_id = _operator_sets_up_a_program_and_invites(api, cast, org_id)

    _incentives_admin_sees_the_invitation_and_dismisses_it(api, cast, stockholm, program_id, fiscal_year)
    enrollment_id = _incentives_admin_enrolls(api, cast, stockholm, program_id, fiscal_year)
    _incentives_user_sees_enrolling_without_bank_details(api, cast, enrollment_id)
    _operator_approves(api, cast, enrollment_id)
    _operator_cannot_roll_the_year_forward_before_it_ends(api, cast, fiscal_year)
    _another_tenant_sees_none_of_it(api, cast, org_id, stockholm, enrollment_id)
    assert cast.incentives_admin.email in _queued_invitation_recipients(server.database)

    _on_july_1_the_year_rolls_forward_and_the_enrollment_is_carried(
        server, cast, stockholm, program_id, fiscal_year
    )
    assert server.process.stop() == 0, server.process.output()


def _global_admin_registers_the_organization_with_three_locations(
    api: GraphQL, cast: Cast
) -> tuple[str, dict[str, str]]:
    token = cast.global_admin.token
    org = api.mutate(
        token, "registerOrganization", "organization { id }", legalName="Contoso Ltd", country="SE"
    )
    added = [
        api.mutate(
            token,
            "addLocation",
            "location { id partnerId partnerType }",
            name=name,
            country="SE",
            partnerType=kind,
        )["location"]
        for name, kind in [
            ("Contoso Stockholm", "DIRECT_RESELLER"),
            ("Contoso Göteborg", "INDIRECT_PROVIDER"),
            ("Contoso Malmö", "INDIRECT_RESELLER"),
        ]
    ]
    partner_ids = {location["partnerId"] for location in added}
    assert len(partner_ids) == 3
    assert all(partner_id.isdigit() for partner_id in partner_ids)
    return org["organization"]["id"], {location["partnerType"]: location["id"] for location in added}


def _global_admin_assigns_incentives_roles(api: GraphQL, cast: Cast, location_id: str) -> None:
    for user, role, location_ids in [
        (cast.incentives_admin, "INCENTIVES_ADMIN", [location_id]),
        (cast.incentives_user, "INCENTIVES_USER", None),
    ]:
        assigned = api.mutate(
            cast.global_admin.token,
            "assignRole",
            "roleAssignment { role }",
            userObjectId=user.object_id,
            displayName=user.name,
            email=user.email,
            role=role,
            locationIds=location_ids,
        )
        assert assigned["roleAssignment"]["role"] == role


def _operator_sets_up_a_program_and_invites(api: GraphQL, cast: Cast, org_id: str) -> str:
    token = cast.operator.token
    program = api.mutate(
        token,
        "createProgram",
        "program { id openToAllPartners }",
        code="CSP-E2E",
        name="CSP",
        criteria=ALL_CRITERIA,
    )
    assert program["program"]["openToAllPartners"] is False
    for kind in ("PARTNER_PROGRAM", "RESELLER"):
        api.mutate(
            token, "recordAgreement", "organization { id }", organizationId=org_id, kind=kind, active=True
        )
    designated = api.mutate(
        token,
        "setSolutionsPartnerDesignation",
        "organization { hasSolutionsPartnerDesignation }",
        organizationId=org_id,
        designated=True,
    )
    assert designated["organization"]["hasSolutionsPartnerDesignation"] is True
    program_id: str = program["program"]["id"]
    issued = api.mutate(token, "issueInvitations", "invitationsCreated", programId=program_id)
    # Rule 18: the designation that made Stockholm and Malmö eligible invited them at once (Göteborg,
    # an indirect provider with no distributor agreement, is not eligible); the batch finds no more.
    assert issued["invitationsCreated"] == 0
    return program_id


def _incentives_admin_sees_the_invitation_and_dismisses_it(
    api: GraphQL, cast: Cast, location_id: str, program_id: str, fiscal_year: int
) -> None:
    token = cast.incentives_admin.token
    (invitation,) = api.data(token, INVITATIONS)["viewer"]["invitations"]
    assert invitation["location"]["id"] == location_id
    assert invitation["program"]["id"] == program_id
    assert (invitation["fiscalYear"], invitation["channel"]) == (fiscal_year, "EMAIL")

    api.mutate(token, "dismissInvitation", "invitation { id }", invitationId=invitation["id"])

    assert api.data(token, INVITATIONS)["viewer"]["invitations"] == []


def _incentives_admin_enrolls(
    api: GraphQL, cast: Cast, location_id: str, program_id: str, fiscal_year: int
) -> str:
    token = cast.incentives_admin.token
    api.mutate(
        token,
        "setTaxProfile",
        "taxProfile { id }",
        locationId=location_id,
        taxId="SE556677889901",
        country="SE",
        expiresOn=date(fiscal_year + 2, 6, 30).isoformat(),
    )
    profile = api.mutate(
        token,
        "createPaymentProfile",
        "paymentProfile { id bankAccountLast4 }",
        name="Main account",
        currency="SEK",
        bankAccountNumber="SE45 5000 0000 0583 9825 7466",
    )["paymentProfile"]
    assert profile["bankAccountLast4"] == "7466"
    enrolled = api.mutate(
        token,
        "enroll",
        "enrollment { id status }",
        locationId=location_id,
        programId=program_id,
        paymentProfileId=profile["id"],
    )["enrollment"]
    assert enrolled["status"] == "VALIDATING_ENROLLMENT"
    enrollment_id: str = enrolled["id"]
    return enrollment_id


def _incentives_user_sees_enrolling_without_bank_details(
    api: GraphQL, cast: Cast, enrollment_id: str
) -> None:
    body = api.post(cast.incentives_user.token, ENROLLMENT_AS_SEEN, id=enrollment_id)

    enrollment: dict[str, Any] = body["data"]["node"]
    assert enrollment["status"] == "ENROLLING"
    assert enrollment["paymentProfile"]["bankAccountLast4"] is None
    assert error_codes(body) == [(("node", "paymentProfile", "bankAccountLast4"), "FORBIDDEN")]


def _operator_approves(api: GraphQL, cast: Cast, enrollment_id: str) -> None:
    reviewed = api.mutate(
        cast.operator.token,
        "reviewEnrollment",
        "enrollment { status earningsStartDate }",
        enrollmentId=enrollment_id,
        approved=True,
    )

    first_of_this_month = datetime.now(UTC).date().replace(day=1)
    assert reviewed["enrollment"] == {
        "status": "ENROLLED",
        "earningsStartDate": first_of_this_month.isoformat(),
    }


def _operator_cannot_roll_the_year_forward_before_it_ends(api: GraphQL, cast: Cast, fiscal_year: int) -> None:
    refused = api.data(
        cast.operator.token,
        ROLL_OVER,
        input={"fromFiscalYear": fiscal_year},
    )["rollOverFiscalYear"]
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [
        (["input", "fromFiscalYear"], "INVALID")
    ]
    assert refused["carried"] == 0


def _on_july_1_the_year_rolls_forward_and_the_enrollment_is_carried(
    server: Server, cast: Cast, location_id: str, program_id: str, fiscal_year: int
) -> None:
    """The operator's command line on the first day of the next year (rule 23), on the server's
    database; the server (on today's clock, as the tokens are) then shows the carried enrollment."""
    env = environment(
        DATABASE_URL=f"sqlite+aiosqlite:///{server.database}", AZURE_TENANT_ID=OPERATOR_TENANT_ID
    )
    july_1 = datetime(fiscal_year, 7, 1, 0, 0, tzinfo=UTC)
    rolled = incentives("rollover", "--from-fiscal-year", str(fiscal_year), env=on_clock(july_1, env))
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    assert "carried 1, action required 0, ineligible 0" in rolled.stdout

    api = server.api
    found = api.data(cast.global_admin.token, NEXT_YEAR_ENROLLMENTS, id=location_id, year=fiscal_year + 1)
    enrollments = found["node"]["enrollments"]
    assert enrollments["totalCount"] == 1
    assert enrollments["edges"][0]["node"] == {
        "fiscalYear": fiscal_year + 1,
        "status": "ENROLLED",
        "program": {"id": program_id},
    }


def _another_tenant_sees_none_of_it(
    api: GraphQL, cast: Cast, org_id: str, location_id: str, enrollment_id: str
) -> None:
    token = cast.stranger.token
    api.mutate(
        token, "registerOrganization", "organization { id }", legalName="Northwind Traders", country="DE"
    )

    seen = api.data(token, LOOK_AROUND, org=org_id, location=location_id, enrollment=enrollment_id)

    assert (seen["org"], seen["location"], seen["enrollment"]) == (None, None, None)
    assert seen["viewer"]["organization"] == {"legalName": "Northwind Traders"}


def _queued_invitation_recipients(database: Path) -> set[str]:
    with closing(sqlite3.connect(database)) as connection:
        rows = connection.execute("SELECT to_address FROM outbox WHERE subject = ?", (INVITATION_SUBJECT,))
        return {address for (address,) in rows}
