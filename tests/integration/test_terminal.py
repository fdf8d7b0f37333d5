"""`incentives login` and `incentives query`: MSAL's device-code flow against the loopback Entra
(real authority, routed), a private token cache on disk, and a silent token for the served API."""

from __future__ import annotations

import argparse
import json
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.msal_http import MsalHttpClient
from api.entry import CommandError
from api.settings import Settings
from api.terminal import TerminalConfig, add_terminal_commands, login, query
from sandbox.entra import new_tenant_id
from sandbox.graph import LoopbackUser
from tests.support.entra import API_CLIENT_ID, PARTNER_TENANT_ID, RunningEntra, routed_msal_http
from tests.support.server import ApiServer, without_cost

CLI_CLIENT_ID = "6a1c5d2e-0b7f-4c3a-9e8d-2f4b6a8c0e1d"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "incentives-home"


@pytest.fixture
def settings(home: Path) -> Settings:
    return Settings.model_validate(
        {
            "AZURE_CLIENT_ID": API_CLIENT_ID,
            "INCENTIVES_CLI_CLIENT_ID": CLI_CLIENT_ID,
            "INCENTIVES_HOME": str(home),
        }
    )


@pytest.fixture
def admin(entra: RunningEntra) -> Iterator[LoopbackUser]:
    """A partner admin in the directory; the loopback approves device codes as them unless a test
    turns that off."""
    entra.entra.register_application(CLI_CLIENT_ID, public_client=True)
    user = entra.entra.add_directory_user(
        PARTNER_TENANT_ID,
        new_tenant_id(),
        "admin@fabrikam.example",
        "Fabrikam Admin",
        "admin@fabrikam.example",
    )
    entra.entra.auto_approve_device_codes(user)
    yield user
    entra.entra.auto_approve_device_codes(None)


@pytest.fixture
def msal_http(entra: RunningEntra) -> Iterator[MsalHttpClient]:
    client = routed_msal_http(entra)
    yield client
    client.close()


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="incentives")
    add_terminal_commands(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_login_writes_a_token_cache_only_its_user_can_read(
    settings: Settings,
    home: Path,
    admin: LoopbackUser,
    msal_http: MsalHttpClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert login(settings, parse("login"), msal_http=msal_http) == 0

    cache = home / "msal_cache.json"
    printed = capsys.readouterr().out
    assert "https://microsoft.com/devicelogin" in printed
    assert f"Signed in as {admin.user_principal_name}" in printed
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert json.loads(cache.read_text())["RefreshToken"]


def test_login_waits_until_the_code_is_approved(
    entra: RunningEntra, settings: Settings, home: Path, admin: LoopbackUser, msal_http: MsalHttpClient
) -> None:
    entra.entra.auto_approve_device_codes(None)
    outcome: list[int] = []
    signing_in = threading.Thread(
        target=lambda: outcome.append(login(settings, parse("login"), msal_http=msal_http))
    )
    signing_in.start()
    user_code = wait_for_user_code(entra)
    time.sleep(0.2)  # let MSAL poll at least once while the code is still pending
    entra.entra.approve_device_code(user_code, admin)
    signing_in.join(timeout=20)

    assert outcome == [0]
    assert entra.entra.request_count("token", "organizations") >= 2  # pending first, then the tokens
    assert (home / "msal_cache.json").exists()


def test_query_uses_the_cached_token_silently(
    entra: RunningEntra,
    api_server: ApiServer,
    settings: Settings,
    home: Path,
    admin: LoopbackUser,
    msal_http: MsalHttpClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    login(settings, parse("login"), msal_http=msal_http)
    capsys.readouterr()
    tokens_issued = entra.entra.request_count("token")

    args = parse("query", "{ viewer { objectId } }", "--url", f"{api_server.url}/graphql")
    code = query(settings, args, msal_http=msal_http)

    assert code == 0
    reply = json.loads(capsys.readouterr().out)
    assert without_cost(reply) == {"data": {"viewer": {"objectId": admin.object_id}}}
    assert entra.entra.request_count("token") == tokens_issued


def test_query_answered_with_errors_exits_1(
    api_server: ApiServer,
    settings: Settings,
    home: Path,
    admin: LoopbackUser,
    msal_http: MsalHttpClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    login(settings, parse("login"), msal_http=msal_http)

    args = parse("query", "{ noSuchField }", "--variables", "{}", "--url", f"{api_server.url}/graphql")

    assert query(settings, args, msal_http=msal_http) == 1
    assert '"errors"' in capsys.readouterr().out


def test_query_before_login_exits_1_with_the_hint(
    settings: Settings, home: Path, msal_http: MsalHttpClient
) -> None:
    with pytest.raises(CommandError, match="run `incentives login`") as refused:
        query(settings, parse("query", "{ viewer { objectId } }"), msal_http=msal_http)

    assert refused.value.exit_code == 1


def test_token_cache_lives_in_the_users_home_by_default() -> None:
    settings = Settings.model_validate({"AZURE_CLIENT_ID": API_CLIENT_ID})

    config = TerminalConfig.from_settings(settings)

    assert config.cache_path == Path.home() / ".incentives" / "msal_cache.json"
    assert config.authority == "https://login.microsoftonline.com/organizations"
    assert config.scopes == [f"api://{API_CLIENT_ID}/access_as_user"]


def test_variables_must_be_a_json_object() -> None:
    with pytest.raises(SystemExit):
        parse("query", "{ viewer { objectId } }", "--variables", "[1]")


def wait_for_user_code(entra: RunningEntra, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        codes = entra.entra.pending_user_codes()
        if codes:
            return codes[0]
        time.sleep(0.02)
    raise AssertionError("no device code was requested")
