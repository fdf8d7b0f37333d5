"""deploy/compose.yaml, the shape docs/deployment.md describes: every setting it gives the API is
one the service reads, the API goes through PgBouncer with the direct URL beside it, and (where
Docker's compose plugin is installed) `docker compose config` accepts it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from api.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
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
