"""deploy/compose.yaml, the shape docs/deployment.md describes: every setting it gives the API is
one the service reads, the API goes through PgBouncer with the direct URL beside it, it is a valid
Compose file by the Compose Specification's own JSON schema (tests/support/compose-spec.json,
compose-spec/compose-spec at 170098b, Apache-2.0), and, where Docker's compose plugin is
installed, `docker compose config` accepts it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml  # type: ignore[import-untyped]

from api.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
COMPOSE_SPEC = Path(__file__).resolve().parents[1] / "support" / "compose-spec.json"
REQUIRED = {"AZURE_CLIENT_ID": "client", "AZURE_TENANT_ID": "tenant", "POSTGRES_PASSWORD": "secret"}


def known_settings() -> set[str]:
    return {str(field.validation_alias) for field in Settings.model_fields.values()}


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def test_the_api_gets_only_settings_the_service_reads() -> None:
    services = compose()["services"]
    given = set(services["api"]["environment"]) | set(services["migrate"]["environment"])
    assert given - known_settings() == set()


def test_the_api_goes_through_pgbouncer_and_the_direct_url_to_postgres() -> None:
    services = compose()["services"]
    database = services["api"]["environment"]
    assert "@pgbouncer:6432/" in database["DATABASE_URL"]
    assert "@postgres:5432/" in database["INCENTIVES_DIRECT_DATABASE_URL"]
    assert services["pgbouncer"]["environment"]["POOL_MODE"] == "transaction"
    assert services["api"]["environment"]["INCENTIVES_REDIS_URL"].startswith("redis://redis:")
    assert services["api"]["deploy"]["replicas"] > 1
    assert "option httpchk GET /readyz" in (DEPLOY / "haproxy.cfg").read_text()


def test_it_is_a_compose_file_by_the_specifications_schema() -> None:
    validator = jsonschema_rs.validator_for(json.loads(COMPOSE_SPEC.read_text()))
    assert [error.message for error in validator.iter_errors(compose())] == []
    broken = {**compose(), "services": {"api": {"image": 3, "replica": 3}}}
    assert len(list(validator.iter_errors(broken))) == 2  # the schema does catch a wrong file


def test_docker_compose_accepts_it() -> None:
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True).returncode:
        pytest.skip("Docker's compose plugin is not installed: deploy/compose.yaml is not checked by it")
    checked = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True,
        text=True,
        env={**os.environ, **REQUIRED},
        timeout=60,
    )
    assert checked.returncode == 0, checked.stderr
