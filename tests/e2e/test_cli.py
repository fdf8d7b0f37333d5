"""The `incentives` command line, run as a process the way operators and scripts run it."""

from __future__ import annotations

import json
import re
import signal
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from domain.fiscal import fiscal_year_of
from tests.e2e.harness import GraphQL, environment, incentives, on_clock, running
from tests.support.ports import free_port

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
ENTRA_SETTINGS = {
    "AZURE_CLIENT_ID": "6db6ce92-6b0f-4f7b-91a6-4bb679e133e1",
    "AZURE_TENANT_ID": "9d5bb096-9669-4518-b772-59879f03e563",
}


@pytest.fixture
def database_env(tmp_path: Path) -> dict[str, str]:
    return environment(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")


def test_export_schema_prints_the_committed_schema() -> None:
    exported = incentives("export-schema", env=environment())

    assert exported.returncode == 0, exported.stderr
    committed = (REPO / "schema.graphql").read_text(encoding="utf-8")
    assert exported.stdout == committed, "schema.graphql is stale: run ./run export-schema > schema.graphql"


def test_migrate_twice_succeeds(database_env: dict[str, str]) -> None:
    first = incentives("migrate", env=database_env)
    second = incentives("migrate", env=database_env)

    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    assert "latest schema" in second.stdout


def test_serve_without_a_client_id_refuses_to_start_and_names_it(database_env: dict[str, str]) -> None:
    env = {**database_env, "AZURE_TENANT_ID": ENTRA_SETTINGS["AZURE_TENANT_ID"]}

    refused = incentives("serve", "--port", str(free_port()), env=env)

    assert refused.returncode == 2
    assert "AZURE_CLIENT_ID" in refused.stderr
    assert "AZURE_TENANT_ID" not in refused.stderr


def test_serve_on_an_unmigrated_database_fails_with_the_migrate_hint(database_env: dict[str, str]) -> None:
    refused = incentives("serve", "--port", str(free_port()), env={**database_env, **ENTRA_SETTINGS})

    assert refused.returncode == 1
    assert "incentives migrate" in refused.stderr


def test_rollover_of_an_empty_database_counts_nothing(database_env: dict[str, str]) -> None:
    assert incentives("migrate", env=database_env).returncode == 0
    last_year = str(fiscal_year_of(date.today()) - 1)  # ended: it may roll forward (rule 23)

    rolled = incentives("rollover", "--from-fiscal-year", last_year, env=database_env)

    assert rolled.returncode == 0, rolled.stderr
    assert re.search(r"carried 0, action required 0, ineligible 0, inactive 0", rolled.stdout), rolled.stdout


def test_rollover_of_the_current_fiscal_year_is_a_usage_error(database_env: dict[str, str]) -> None:
    assert incentives("migrate", env=database_env).returncode == 0
    this_year = fiscal_year_of(date.today())

    refused = incentives("rollover", "--from-fiscal-year", str(this_year), env=database_env)

    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert f"fiscal year {this_year} has not ended" in refused.stderr
    assert "Rolled" not in refused.stdout


@pytest.mark.parametrize(
    ("at", "exit_code"),
    [(datetime(2027, 6, 30, 23, 59, 30, tzinfo=UTC), 2), (datetime(2027, 7, 1, 0, 0, tzinfo=UTC), 0)],
    ids=["june-30", "july-1"],
)
def test_rollover_waits_for_the_first_day_of_the_next_fiscal_year(
    database_env: dict[str, str], at: datetime, exit_code: int
) -> None:
    assert incentives("migrate", env=database_env).returncode == 0

    rolled = incentives("rollover", "--from-fiscal-year", "2027", env=on_clock(at, database_env))

    assert rolled.returncode == exit_code, rolled.stdout + rolled.stderr
    if exit_code:
        assert "fiscal year 2027 has not ended: it rolls forward from 2027-07-01" in rolled.stderr
    else:
        assert "Rolled fiscal year 2027 forward to 2028" in rolled.stdout


def test_unknown_commands_are_usage_errors() -> None:
    assert incentives("frobnicate", env=environment()).returncode == 2


def test_demo_prints_tokens_that_work_with_a_directory_to_search_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    with running(
        "demo", "--port", str(port), env=environment(), log=tmp_path / "demo.log", cwd=tmp_path
    ) as demo:
        demo.wait_for(lambda: "Press Ctrl+C to stop." in demo.output(), "printed tokens")
        token = _printed(demo.output(), "GLOBAL_ADMIN_TOKEN")
        api = GraphQL(f"http://127.0.0.1:{port}")
        try:
            viewer = api.data(token, "{ viewer { isGlobalAdmin organization { legalName } } }")["viewer"]
            found = api.data(token, '{ directoryUsers(search: "Nils") { displayName userPrincipalName } }')
        finally:
            api.close()

        assert viewer == {"isGlobalAdmin": True, "organization": {"legalName": "Contoso Ltd"}}
        nils = {"displayName": "Nils Ek", "userPrincipalName": "nils@contoso.example"}
        assert nils in found["directoryUsers"]  # with Lars Nilsson: $search matches the start of words
        saved = json.loads((tmp_path / "demo-data" / "tokens.json").read_text(encoding="utf-8"))
        assert saved["tokens"]["global_admin"] == token
        assert '"POST /graphql' not in demo.output()  # no access log to scroll the tokens away
        # A printed token works with `incentives query`, by flag or from the environment.
        url = f"http://127.0.0.1:{port}/graphql"
        by_flag = incentives(
            "query", "--url", url, "--token", token, "{ viewer { displayName } }", env=environment()
        )
        by_env = incentives(
            "query",
            "{ viewer { isGlobalAdmin } }",
            env=environment(INCENTIVES_TOKEN=token, INCENTIVES_API_URL=url),
        )
        assert by_flag.returncode == 0, by_flag.stderr
        assert json.loads(by_flag.stdout)["data"] == {"viewer": {"displayName": "Astrid Lindqvist"}}
        assert by_env.returncode == 0, by_env.stderr
        assert json.loads(by_env.stdout)["data"] == {"viewer": {"isGlobalAdmin": True}}
        assert demo.stop(signal.SIGINT) == 0, demo.output()
        assert demo.output().count("Shutting down") == 1, demo.output()
        assert demo.output().count("Finished server process") == 1, demo.output()


def _printed(output: str, variable: str) -> str:
    found = re.search(rf"^\s*export {variable}=(\S+)$", output, re.MULTILINE)  # ready to paste
    assert found is not None, output
    return found.group(1)
