"""Relay's compiler accepts the committed schema: its `@connection` needs Relay's whole connection
spec (`first`/`after`, `last`/`before`, `pageInfo { hasNextPage hasPreviousPage startCursor
endCursor }`), checked over the paginated fragments in clients/relay/src, as a Relay client writes
them. The compiler is the real one, from clients/node_modules (`npm ci --prefix clients`)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RELAY = ROOT / "clients" / "relay"
COMPILER = ROOT / "clients" / "node_modules" / ".bin" / "relay-compiler"


def compile_relay(tmp_path: Path, schema: str) -> subprocess.CompletedProcess[str]:
    """A full compile of clients/relay against `schema`, in a copy (the artifacts are thrown away)."""
    if not COMPILER.exists():
        pytest.skip(f"no relay-compiler at {COMPILER}: run `npm ci --prefix clients` (CI's .ci/run does)")
    work = tmp_path / "relay"
    shutil.copytree(RELAY / "src", work / "src", ignore=shutil.ignore_patterns("__generated__"))
    (work / "schema.graphql").write_text(schema)
    config = json.loads((RELAY / "relay.config.json").read_text())
    assert config["schema"] == "../../schema.graphql"  # the committed schema is what is checked
    (work / "relay.config.json").write_text(json.dumps({**config, "schema": "./schema.graphql"}))
    return subprocess.run([str(COMPILER)], cwd=work, capture_output=True, text=True, timeout=120, check=False)


def test_relay_compiles_the_paginated_fragments_against_the_schema(tmp_path: Path) -> None:
    done = compile_relay(tmp_path, (ROOT / "schema.graphql").read_text())

    assert done.returncode == 0, done.stdout + done.stderr
    generated = tmp_path / "relay" / "src" / "__generated__"
    names = {path.name for path in generated.iterdir()}
    assert "LocationEnrollmentsPaginationQuery.graphql.ts" in names
    assert "OrganizationLocationsPaginationQuery.graphql.ts" in names
    assert "OrganizationAuditLogPaginationQuery.graphql.ts" in names


def test_relay_refuses_a_connection_without_the_backward_half_of_the_spec(tmp_path: Path) -> None:
    """The check can fail: without `hasPreviousPage`/`startCursor`, as the schema was, Relay refuses."""
    schema = (ROOT / "schema.graphql").read_text()
    start = schema.index("type PageInfo {")
    end = schema.index("}", start)
    page_info = "type PageInfo {\n  hasNextPage: Boolean!\n  endCursor: String\n"
    done = compile_relay(tmp_path, schema[:start] + page_info + schema[end:])

    assert done.returncode != 0
    assert "hasPreviousPage" in done.stdout + done.stderr
