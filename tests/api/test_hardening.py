"""What a client sends cannot crash the service or learn what it should not: bad variables are the
client's error, hostile text is refused at the edge, introspection and suggestions are for those
who may see the schema. Each input here once crashed the service or slipped through."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.support import personas
from tests.support.configured_api import configured_api
from tests.support.entra import RunningEntra
from tests.support.in_process import InProcessApi

REGISTER = """mutation($name: String!) { registerOrganization(input: {legalName: $name, country: "DE"}) {
  organization { id } userErrors { field code message } } }"""
INTROSPECT = "{ __schema { queryType { name } } }"


def codes(reply: dict[str, Any]) -> list[str]:
    return [error.get("extensions", {}).get("code") for error in reply.get("errors", [])]


@pytest.fixture
def token(entra: RunningEntra) -> str:
    return personas.user(entra, personas.Tenant()).token


# --- a client's bad variables are its own error ---------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("query($s: EnrollmentStatus) { enrollments(status: $s) { totalCount } }", {"s": "NOT_A_STATUS"}),
        ("query($n: Int) { programs(first: $n) { totalCount } }", {"n": 2**63}),
        (
            'mutation($d: Date!) { setTaxProfile(input: {locationId: "x", taxId: "DE1", country: "DE", '
            "expiresOn: $d}) { userErrors { code } } }",
            {"d": "2026-02-30"},
        ),
    ],
    ids=["unknown enum value", "Int of 2^63", "invalid Date"],
)
def test_bad_variables_are_told_to_the_client_and_not_logged_as_errors(
    api: InProcessApi, token: str, query: str, variables: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        reply = api.graphql(query, variables, token=token)

    assert codes(reply) == ["BAD_USER_INPUT"], reply
    assert "Unexpected error" not in reply["errors"][0]["message"]
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_a_cursor_holding_a_key_past_64_bits_is_bad_input(api: InProcessApi, token: str) -> None:
    import base64

    cursor = base64.urlsafe_b64encode(b"k:" + b"9" * 26).decode().rstrip("=")
    reply = api.graphql(
        "query($c: String) { programs(after: $c) { totalCount } }", {"c": cursor}, token=token
    )

    assert codes(reply) == ["BAD_USER_INPUT"], reply


def test_a_cursor_of_unicode_digits_is_bad_input(api: InProcessApi, token: str) -> None:
    import base64

    cursor = base64.urlsafe_b64encode("k:²".encode()).decode().rstrip("=")
    reply = api.graphql(
        "query($c: String) { programs(after: $c) { totalCount } }", {"c": cursor}, token=token
    )

    assert codes(reply) == ["BAD_USER_INPUT"], reply


# --- hostile text -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Contoso\x00Ltd",
        "Contoso\ud800",
        "Contoso \u202eLtd",
        "Con\u200btoso",
        "Contoso\x1b[31m",
        "\ufeffContoso",
    ],
    ids=["NUL", "lone surrogate", "bidi override", "zero-width space", "escape", "byte order mark"],
)
def test_names_refuse_control_invisible_and_bidi_characters(
    api: InProcessApi, entra: RunningEntra, name: str
) -> None:
    admin = personas.global_admin(entra, personas.Tenant())

    reply = api.graphql(REGISTER, {"name": name}, token=admin.token)

    payload = reply["data"]["registerOrganization"]
    assert payload["organization"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["input", "legalName"], "INVALID")]


def test_names_keep_the_joiners_scripts_need(api: InProcessApi, entra: RunningEntra) -> None:
    admin = personas.global_admin(entra, personas.Tenant())

    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # "I want", with a ZWNJ
    reply = api.graphql(REGISTER, {"name": f"{persian} Ltd"}, token=admin.token)

    assert reply["data"]["registerOrganization"]["userErrors"] == []


def test_a_roll_forward_of_an_impossible_year_is_invalid(api: InProcessApi, entra: RunningEntra) -> None:
    operator = personas.operator(entra)
    query = """mutation($y: Int!) { rollOverFiscalYear(input: {fromFiscalYear: $y}) {
      carried userErrors { field code } } }"""

    for year in (0, 10000, -1):
        payload = api.graphql(query, {"y": year}, token=operator.token)["data"]["rollOverFiscalYear"]
        assert payload["userErrors"] == [{"field": ["input", "fromFiscalYear"], "code": "INVALID"}], year


def test_an_email_address_is_checked_when_given(api: InProcessApi, entra: RunningEntra) -> None:
    tenant = personas.Tenant()
    admin = personas.global_admin(entra, tenant)
    api.graphql(REGISTER, {"name": "Mailcheck Ltd"}, token=admin.token)
    query = f"""mutation($email: String) {{ assignRole(input: {{userObjectId: "{personas.new_guid()}",
      role: ACCOUNT_ADMIN, email: $email}}) {{ roleAssignment {{ id }} userErrors {{ field code }} }} }}"""

    for bad in ("alice@contoso.com\r\nBcc: all@contoso.com", "not an address", "a@b"):
        reply = api.graphql(query, {"email": bad}, token=admin.token)
        assert reply["data"] is not None, reply
        payload = reply["data"]["assignRole"]
        assert payload["userErrors"] == [{"field": ["input", "email"], "code": "INVALID"}], bad


# --- introspection and suggestions ---------------------------------------------------------------------


def test_introspection_is_for_members_and_operators(
    api: InProcessApi, entra: RunningEntra, token: str
) -> None:
    admin = personas.global_admin(entra, personas.Tenant())
    api.graphql(REGISTER, {"name": "Introspecting Ltd"}, token=admin.token)

    stranger = api.graphql(INTROSPECT, token=token)
    by_fragment = api.graphql('{ ...F } fragment F on Query { __type(name: "Query") { name } }', token=token)
    member = api.graphql(INTROSPECT, token=admin.token)
    operator = api.graphql(INTROSPECT, token=personas.operator(entra).token)

    assert codes(stranger) == ["FORBIDDEN"]
    assert stranger["data"] is None
    assert codes(by_fragment) == ["FORBIDDEN"]
    assert member["data"]["__schema"]["queryType"]["name"] == "Query"
    assert operator["data"]["__schema"]["queryType"]["name"] == "Query"
    assert "errors" not in api.graphql("{ __typename }", token=token), "__typename is no introspection"


def test_a_setting_opens_introspection_to_everyone(entra: RunningEntra, sqlite_url: str, token: str) -> None:
    with configured_api(sqlite_url, authority=entra.base_url, introspection="everyone") as api:
        reply = api.graphql(INTROSPECT, token=token)

    assert reply["data"]["__schema"]["queryType"]["name"] == "Query"


def test_no_suggestions_unless_enabled(entra: RunningEntra, sqlite_url: str, token: str) -> None:
    with configured_api(sqlite_url, authority=entra.base_url) as api:
        hidden = api.graphql("{ viewr { objectId } }", token=token)
    with configured_api(sqlite_url, authority=entra.base_url, graphql_suggestions=True) as api:
        shown = api.graphql("{ viewr { objectId } }", token=token)

    assert hidden["errors"][0]["message"] == "Cannot query field 'viewr' on type 'Query'."
    assert "Did you mean 'viewer'?" in shown["errors"][0]["message"]
