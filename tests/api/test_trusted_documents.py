"""Trusted documents over HTTP and the websocket (CONTRACT 6.5, docs/trusted-documents.md): named by
`documentId`, by Apollo's persisted-query hash or by their whole text, answered as the same query sent
as text without being parsed or validated again; APQ registration; and INCENTIVES_TRUSTED_DOCUMENTS
(off, log, enforce) by kind of caller. The manifest is the shipped operations' (tests/support/trusted.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import ValidationContext
from graphql.language.parser import Parser

from adapters.events import InProcessBus
from api import cli
from api.app import create_app
from api.media import GRAPHQL_RESPONSE, JSON
from api.trusted.manifest import document_id, dump, printed, printed_id, sha256_hex
from api.trusted.prepared import TrustedDocumentsError
from domain.clock import FixedClock
from domain.database import create_engine
from tests.support import personas
from tests.support.configured_api import configured_api, configured_settings
from tests.support.databases import run_async
from tests.support.entra import OPERATOR_TENANT_ID, RunningEntra
from tests.support.live import live
from tests.support.personas import Tenant
from tests.support.served import serve
from tests.support.server import TODAY, ApiServer
from tests.support.trusted import CONSOLE_OPERATIONS, client_operations
from tests.support.world import two_locations_one_enrolled

Json = dict[str, Any]
DASHBOARD = client_operations()["Dashboard"]
CONSOLE = CONSOLE_OPERATIONS.read_text(encoding="utf-8")
UNTRUSTED = "query Mine { viewer { organization { locations(first: 3) { edges { node { name } } } } } }"
INTROSPECTION = "{ __schema { queryType { name } } }"
MUTATION = """mutation { registerOrganization(input: {legalName: "By Get Ltd", country: "DE"}) {
  organization { id } } }"""


@dataclass(frozen=True)
class Callers:
    partner: str  # a Global admin of Contoso: a partner caller
    member: str  # an Incentives user of Contoso (a member of the organization)
    stranger: str  # a user of a tenant with no organization
    operator: str
    daemon: str  # an application (client credentials)


@pytest.fixture(params=["off", "log", "enforce"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _served(entra: RunningEntra, sqlite_url: str, mode: str, **updates: Any) -> Iterator[ApiServer]:
    with configured_api(sqlite_url, authority=entra.base_url, trusted_documents=mode, **updates) as server:
        yield server


@pytest.fixture
def api(entra: RunningEntra, sqlite_url: str, mode: str) -> Iterator[ApiServer]:
    yield from _served(entra, sqlite_url, mode)


@pytest.fixture
def enforcing(entra: RunningEntra, sqlite_url: str) -> Iterator[ApiServer]:
    yield from _served(entra, sqlite_url, "enforce")


@pytest.fixture
def logging_api(entra: RunningEntra, sqlite_url: str) -> Iterator[ApiServer]:
    yield from _served(entra, sqlite_url, "log")


def _callers(api: ApiServer, entra: RunningEntra) -> Callers:
    member = personas.new_guid()
    built = run_async(lambda: two_locations_one_enrolled(api.database_url, TODAY.date(), member))
    tenant_id, admin_id = built
    daemon = entra.mint(
        tenant_id=OPERATOR_TENANT_ID,
        object_id=personas.new_guid(),
        app=True,
        roles=("Incentives.Operator",),
        client_app_id="11111111-2222-3333-4444-555555555555",
    )
    return Callers(
        partner=personas.global_admin(entra, Tenant(tenant_id), object_id=admin_id).token,
        member=personas.user(entra, Tenant(tenant_id), object_id=member).token,
        stranger=personas.user(entra, Tenant()).token,
        operator=personas.operator(entra).token,
        daemon=daemon,
    )


def _post(api: ApiServer, body: Json, token: str, accept: str = JSON) -> tuple[int, Json]:
    headers = {"Authorization": f"Bearer {token}", "Accept": accept}
    response = api.http.post("/graphql", json=body, headers=headers)
    return response.status_code, response.json()


def _get(api: ApiServer, params: Json, token: str) -> httpx.Response:
    return api.http.get("/graphql", params=params, headers={"Authorization": f"Bearer {token}"})


def _answer(body: Json) -> Json:
    """The answer without what the budget says (what remains, and until when)."""
    cost = dict(body.get("extensions", {}).get("cost", {}))
    cost.pop("remaining", None), cost.pop("resetAt", None)
    return {**body, "extensions": {"cost": cost}}


def _ok(status: int, answer: Json) -> None:
    assert status == 200, answer
    assert "errors" not in answer, answer


def _code(body: Json) -> str:
    code: str = body["errors"][0]["extensions"]["code"]
    return code


def _apq(hash_: str) -> Json:
    return {"persistedQuery": {"version": 1, "sha256Hash": hash_}}


@dataclass
class Work:
    """How many documents graphql-core parsed and validated in the server (it runs in this process)."""

    parses: int = 0
    validations: int = 0


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch) -> Work:
    counted = Work()
    parse_document, validation_context = Parser.parse_document, ValidationContext.__init__

    def parsing(parser: Parser) -> Any:
        counted.parses += 1
        return parse_document(parser)

    def validating(context: ValidationContext, *args: Any, **kwargs: Any) -> None:
        counted.validations += 1
        validation_context(context, *args, **kwargs)

    monkeypatch.setattr(Parser, "parse_document", parsing)
    monkeypatch.setattr(ValidationContext, "__init__", validating)
    return counted


# --- named by id, hash or text: the same answer, nothing parsed or validated again ------------------


def test_a_trusted_document_by_id_hash_or_text_answers_as_the_same_query_sent_as_text(
    api: ApiServer, entra: RunningEntra, work: Work, mode: str
) -> None:
    callers = _callers(api, entra)
    # Sent as a text that is not trusted (a partner may not, under enforce: there the trusted text).
    twin = DASHBOARD + "\n# the same query, another text\n"
    status, expected = _post(api, {"query": DASHBOARD if mode == "enforce" else twin}, callers.partner)
    _ok(status, expected)
    hash_only = {"extensions": _apq(sha256_hex(printed(DASHBOARD)))}
    asked: list[Json] = [
        {"documentId": document_id(DASHBOARD)},
        {"documentId": document_id(DASHBOARD), "operationName": "Dashboard"},
        {"documentId": printed_id(DASHBOARD)},
        hash_only,
        {"extensions": _apq(sha256_hex(DASHBOARD))},
        {"query": DASHBOARD},
        {"query": printed(DASHBOARD), **hash_only},
    ]
    before = (work.parses, work.validations)
    for body in asked:
        status, answer = _post(api, body, callers.partner)
        assert status == 200, (body, answer)
        assert _answer(answer) == _answer(expected), body
    assert (work.parses, work.validations) == before  # prepared at start-up, not per request
    assert expected["data"]["viewer"]["organization"]["locations"]["edges"]
    _post(api, {"query": UNTRUSTED}, callers.operator)
    assert (work.parses, work.validations) == (before[0] + 1, before[1] + 1)  # the counters count


def test_an_operation_of_a_trusted_document_of_many_is_named_by_the_document_and_its_name(
    api: ApiServer, entra: RunningEntra, work: Work
) -> None:
    callers = _callers(api, entra)
    before = (work.parses, work.validations)
    status, by_id = _post(
        api, {"documentId": document_id(CONSOLE), "operationName": "ConsoleWorkspace"}, callers.partner
    )
    assert status == 200
    assert by_id["data"]["viewer"]["organization"]["locations"]["edges"], by_id
    assert (work.parses, work.validations) == before
    _, by_text = _post(api, {"query": CONSOLE, "operationName": "ConsoleWorkspace"}, callers.partner)
    assert _answer(by_id) == _answer(by_text)


def test_get_names_a_query_by_id_and_never_runs_a_mutation(api: ApiServer, entra: RunningEntra) -> None:
    callers = _callers(api, entra)
    by_get = _get(api, {"documentId": document_id(DASHBOARD)}, callers.partner)
    _, by_post = _post(api, {"documentId": document_id(DASHBOARD)}, callers.partner)
    assert by_get.status_code == 200
    assert _answer(by_get.json()) == _answer(by_post)
    apq = _get(api, {"extensions": json.dumps(_apq(sha256_hex(DASHBOARD)))}, callers.partner)
    assert _answer(apq.json()) == _answer(by_post)
    mutation = _get(
        api,
        {"documentId": document_id(CONSOLE), "operationName": "ConsoleDismissInvitation"},
        callers.partner,
    )
    assert mutation.status_code == 405, mutation.text
    assert mutation.headers["Allow"] == "POST"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"documentId": "sha256:ABC"}, "must be sha256:"),
        ({"documentId": "md5:" + "0" * 64}, "must be sha256:"),
        ({"documentId": 7}, "must be sha256:"),
        ({"documentId": "sha256:" + "0" * 64, "query": DASHBOARD}, "is not the query's"),
        ({"query": DASHBOARD, "extensions": _apq("0" * 64)}, "is not the query's"),
        ({"extensions": {"persistedQuery": {"version": 2, "sha256Hash": "0" * 64}}}, "version: 1"),
        ({"extensions": _apq("xyz")}, "64 lowercase hex"),
        ({"documentId": document_id(DASHBOARD), "extensions": _apq("0" * 64)}, "different documents"),
    ],
    ids=[
        "short",
        "not sha256",
        "not a string",
        "query disagrees",
        "hash disagrees",
        "version",
        "hash",
        "both",
    ],
)
def test_a_malformed_or_contradictory_id_is_a_bad_request(
    enforcing: ApiServer, entra: RunningEntra, body: Json, message: str
) -> None:
    token = personas.operator(entra).token
    _post(enforcing, {"query": "{ currentFiscalYear }"}, token)  # signed in once, and remembered
    with enforcing.statements() as statements:
        status, answer = _post(enforcing, body, token)
    assert status == 400
    assert _code(answer) == "BAD_REQUEST"
    assert message in answer["errors"][0]["message"]
    assert len(statements) == 0


@pytest.mark.parametrize("accept", [JSON, GRAPHQL_RESPONSE])
def test_an_unknown_id_or_hash_is_persisted_query_not_found(
    api: ApiServer, entra: RunningEntra, accept: str
) -> None:
    token = personas.user(entra, Tenant()).token
    for body, message in (
        ({"documentId": document_id(UNTRUSTED)}, f"No trusted document has the id {document_id(UNTRUSTED)}."),
        ({"extensions": _apq(sha256_hex(UNTRUSTED))}, "PersistedQueryNotFound"),
    ):
        status, answer = _post(api, body, token, accept)
        assert status == (200 if accept == JSON else 400)
        assert answer == {
            "errors": [{"message": message, "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]
        }


# --- APQ registration -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["off", "log"])
def test_apq_registers_a_text_sent_with_its_hash_under_off_and_log(
    api: ApiServer, entra: RunningEntra
) -> None:
    callers = _callers(api, entra)
    hashed = {"extensions": _apq(sha256_hex(UNTRUSTED))}
    assert _code(_post(api, hashed, callers.partner)[1]) == "PERSISTED_QUERY_NOT_FOUND"
    status, registered = _post(api, {"query": UNTRUSTED, **hashed}, callers.partner)
    _ok(status, registered)
    status, by_hash = _post(api, hashed, callers.partner)
    assert status == 200
    assert _answer(by_hash) == _answer(registered)
    # A documentId names trusted documents only: a registered text is not one.
    assert _code(_post(api, {"documentId": document_id(UNTRUSTED)}, callers.partner)[1]) == (
        "PERSISTED_QUERY_NOT_FOUND"
    )


def test_under_enforce_apq_registers_nothing_and_a_partner_must_send_a_trusted_document(
    enforcing: ApiServer, entra: RunningEntra
) -> None:
    callers = _callers(enforcing, entra)
    hashed = {"extensions": _apq(sha256_hex(UNTRUSTED))}
    status, served = _post(enforcing, {"query": UNTRUSTED, **hashed}, callers.operator)
    _ok(status, served)  # an operator's text is served...
    assert _code(_post(enforcing, hashed, callers.operator)[1]) == "PERSISTED_QUERY_NOT_FOUND"  # ...not kept
    status, refused = _post(enforcing, {"query": UNTRUSTED, **hashed}, callers.partner)
    assert (status, _code(refused)) == (400, "PERSISTED_QUERY_REQUIRED")


# --- enforcement by kind of caller ------------------------------------------------------------------


def test_under_enforce_a_partners_untrusted_document_is_refused_before_it_is_parsed(
    enforcing: ApiServer, entra: RunningEntra, work: Work
) -> None:
    callers = _callers(enforcing, entra)
    for token in (callers.partner, callers.member, callers.stranger):
        _post(enforcing, {"documentId": document_id(DASHBOARD)}, token)  # signed in, and remembered
        before = work.parses
        with enforcing.statements() as statements:
            status, refused = _post(enforcing, {"query": UNTRUSTED}, token)
        assert (status, _code(refused)) == (400, "PERSISTED_QUERY_REQUIRED")
        assert "data" not in refused
        assert work.parses == before
        assert len(statements) == 0
    status, trusted = _post(enforcing, {"query": DASHBOARD}, callers.partner)
    _ok(status, trusted)
    status, by_id = _post(enforcing, {"documentId": document_id(DASHBOARD)}, callers.member)
    _ok(status, by_id)


def test_under_enforce_operators_and_applications_send_any_document_within_the_limits(
    enforcing: ApiServer, entra: RunningEntra
) -> None:
    callers = _callers(enforcing, entra)
    for token in (callers.operator, callers.daemon):
        status, answer = _post(enforcing, {"query": "{ currentFiscalYear }"}, token)
        assert (status, answer["data"]) == (200, {"currentFiscalYear": 2027})
    aliased = "{ " + " ".join(f"a{at}: currentFiscalYear" for at in range(31)) + " }"
    status, too_many = _post(enforcing, {"query": aliased}, callers.operator)
    assert _code(too_many) == "QUERY_TOO_COMPLEX"


@pytest.mark.parametrize("introspection", ["members", "everyone"])
def test_under_enforce_a_document_that_only_introspects_follows_incentives_introspection(
    entra: RunningEntra, sqlite_url: str, introspection: str
) -> None:
    with configured_api(
        sqlite_url, authority=entra.base_url, trusted_documents="enforce", introspection=introspection
    ) as api:
        callers = _callers(api, entra)
        status, member = _post(api, {"query": INTROSPECTION}, callers.member)
        assert (status, member["data"]) == (200, {"__schema": {"queryType": {"name": "Query"}}})
        _, stranger = _post(api, {"query": INTROSPECTION}, callers.stranger)
        if introspection == "everyone":
            assert stranger["data"] == member["data"]
        else:
            assert _code(stranger) == "FORBIDDEN"
        mixed = "{ __schema { queryType { name } } currentFiscalYear }"
        assert _code(_post(api, {"query": mixed}, callers.member)[1]) == "PERSISTED_QUERY_REQUIRED"


@pytest.mark.parametrize("mode", ["off", "log"])
def test_under_off_and_log_a_partners_untrusted_document_is_served(
    api: ApiServer, entra: RunningEntra
) -> None:
    callers = _callers(api, entra)
    status, answer = _post(api, {"query": UNTRUSTED}, callers.partner)
    _ok(status, answer)


def test_under_log_an_untrusted_document_is_logged_once_with_its_id(
    logging_api: ApiServer, entra: RunningEntra, caplog: pytest.LogCaptureFixture
) -> None:
    callers = _callers(logging_api, entra)
    with caplog.at_level(logging.INFO, logger="incentives.trusted"):
        for _ in range(3):
            _post(logging_api, {"query": UNTRUSTED, "operationName": "Mine"}, callers.partner)
        _post(logging_api, {"query": DASHBOARD}, callers.partner)
    logged = [record.getMessage() for record in caplog.records if record.name == "incentives.trusted"]
    assert logged == [f"served a document that is not trusted: {document_id(UNTRUSTED)} (operation Mine)"]


# --- the websocket ----------------------------------------------------------------------------------


@pytest.fixture
def live_enforcing(entra: RunningEntra, sqlite_url: str) -> Iterator[tuple[str, InProcessBus]]:
    engine = create_engine(sqlite_url)
    bus = InProcessBus()
    settings = configured_settings(sqlite_url, authority=entra.base_url, trusted_documents="enforce")
    app = create_app(settings, clock=FixedClock(TODAY), engine=engine, events=bus)
    try:
        with serve(app) as url:
            yield url, bus
    finally:
        run_async(engine.dispose)


async def test_a_subscription_is_named_by_id_over_the_websocket_and_enforced_there(
    live_enforcing: tuple[str, InProcessBus], entra: RunningEntra
) -> None:
    url, bus = live_enforcing
    token = personas.user(entra, Tenant()).token
    async with live(url, token) as client:
        untrusted = "subscription { enrollmentStatusChanged { id } }"
        await client.subscribe("text", untrusted)
        refused = await client.receive()
        assert (refused["id"], refused["type"]) == ("text", "error")
        assert refused["payload"][0]["extensions"]["code"] == "PERSISTED_QUERY_REQUIRED"
        await client.send(
            {"id": "unknown", "type": "subscribe", "payload": {"documentId": document_id(untrusted)}}
        )
        unknown = await client.receive()
        assert unknown["payload"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        payload = {"documentId": document_id(CONSOLE), "operationName": "ConsoleEnrollmentChanges"}
        await client.send({"id": "by-id", "type": "subscribe", "payload": payload})
        await client.silent_for(0.5)
        assert bus.subscribers == 1


# --- start-up ---------------------------------------------------------------------------------------


def test_the_app_does_not_start_without_a_servable_manifest_unless_off(
    entra: RunningEntra, sqlite_url: str, tmp_path: Path
) -> None:
    missing = tmp_path / "none.json"
    invalid = tmp_path / "invalid.json"
    dump({document_id("{ noSuchField }"): "{ noSuchField }"}, invalid)
    for mode in ("log", "enforce"):
        settings = configured_settings(
            sqlite_url, authority=entra.base_url, trusted_documents=mode, trusted_documents_file=str(missing)
        )
        with pytest.raises(TrustedDocumentsError, match="does not exist"):
            create_app(settings)
    for mode in ("off", "log"):
        settings = configured_settings(
            sqlite_url, authority=entra.base_url, trusted_documents=mode, trusted_documents_file=str(invalid)
        )
        with pytest.raises(
            TrustedDocumentsError, match="does not validate: Cannot query field 'noSuchField'"
        ):
            create_app(settings)
    off = configured_settings(
        sqlite_url, authority=entra.base_url, trusted_documents="off", trusted_documents_file=str(missing)
    )
    create_app(off)


@pytest.mark.parametrize("workers", ["1", "2"])  # one process builds its app; the supervisor checks
def test_serve_stops_at_start_up_with_exit_2_when_the_manifest_is_missing(
    workers: str,
    entra: RunningEntra,
    sqlite_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in {
        "DATABASE_URL": sqlite_url,
        "AZURE_CLIENT_ID": "api",
        "AZURE_TENANT_ID": OPERATOR_TENANT_ID,
        "INCENTIVES_TRUSTED_DOCUMENTS": "enforce",
        "INCENTIVES_TRUSTED_DOCUMENTS_FILE": str(tmp_path / "none.json"),
    }.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["serve", "--port", "0", "--workers", workers]) == 2
    error = capsys.readouterr().err
    assert "INCENTIVES_TRUSTED_DOCUMENTS=enforce" in error
    assert "none.json does not exist" in error
