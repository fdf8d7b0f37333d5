"""Apollo Client 3's persisted-query link against the served API (tests/clients/apollo_persisted.mjs):
a trusted document found by its hash alone, even under enforce for a partner; under log an unknown
one is not found, sent again with its text, and found by its hash the next time; under enforce a
partner's unknown one ends in PERSISTED_QUERY_REQUIRED."""

from __future__ import annotations

import json
import shutil
from typing import Any

import pytest

from api.trusted.manifest import printed, sha256_hex
from tests.clients.paths import CLIENTS, ROOT
from tests.clients.tools import NPM_CI, run
from tests.support import personas
from tests.support.configured_api import configured_api
from tests.support.entra import RunningEntra
from tests.support.personas import Tenant
from tests.support.server import TODAY
from tests.support.trusted import client_operations
from tests.support.world import two_locations_one_enrolled

SCRIPT = ROOT / "tests" / "clients" / "apollo_persisted.mjs"
DASHBOARD = client_operations()["Dashboard"]
UNKNOWN = "query Names { viewer { organization { locations(first: 2) { edges { node { name } } } } } }"


def _apollo(url: str, token: str, *queries: str) -> list[dict[str, Any]]:
    if shutil.which("node") is None or not (CLIENTS / "node_modules" / "@apollo" / "client").exists():
        pytest.skip(f"@apollo/client is not installed: run `{NPM_CI}` (needs Node.js)")
    argument = json.dumps({"url": f"{url}/graphql", "token": token, "queries": list(queries)})
    done = run("node", SCRIPT, CLIENTS, argument)
    assert done.returncode == 0, done.stdout + done.stderr
    outcomes: list[dict[str, Any]] = json.loads(done.stdout)
    return outcomes


def _hash(text: str) -> str:
    return sha256_hex(printed(text))  # what Apollo hashes: the document as graphql-js prints it


def _names(outcome: dict[str, Any]) -> list[str]:
    edges = outcome["data"]["viewer"]["organization"]["locations"]["edges"]
    return sorted(edge["node"]["name"] for edge in edges)


@pytest.mark.parametrize("mode", ["log", "enforce"])
async def test_apollo_clients_persisted_query_link(entra: RunningEntra, sqlite_url: str, mode: str) -> None:
    tenant_id, admin_id = await two_locations_one_enrolled(sqlite_url, TODAY.date(), personas.new_guid())
    token = personas.global_admin(entra, Tenant(tenant_id), object_id=admin_id).token
    with configured_api(sqlite_url, authority=entra.base_url, trusted_documents=mode) as api:
        trusted, unknown, again = _apollo(api.url, token, DASHBOARD, UNKNOWN, UNKNOWN)
    hash_only = {"query": False, "hash": _hash(DASHBOARD)}
    assert trusted["sent"] == [hash_only]
    assert _names(trusted) == ["Gothenburg", "Stockholm"]
    retried = [{"query": False, "hash": _hash(UNKNOWN)}, {"query": True, "hash": _hash(UNKNOWN)}]
    assert unknown["sent"] == retried
    if mode == "log":
        assert _names(unknown) == ["Gothenburg", "Stockholm"]
        assert again["sent"] == [{"query": False, "hash": _hash(UNKNOWN)}]  # registered: found by hash
        assert again["data"] == unknown["data"]
    else:
        assert unknown["codes"] == ["PERSISTED_QUERY_REQUIRED"]
        assert again["sent"] == retried  # nothing was registered
        assert again["codes"] == ["PERSISTED_QUERY_REQUIRED"]
