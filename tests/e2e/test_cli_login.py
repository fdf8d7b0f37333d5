"""`incentives login` and `incentives query` against the demo, as a new user meets them: the
demo's printed lines pasted into a shell, the device code entered on the demo's sign-in page."""

from __future__ import annotations

import json
import re
import shlex
import signal
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import environment, incentives, running
from tests.support.ports import free_port

pytestmark = pytest.mark.e2e

VIEWER = "{ viewer { displayName organization { legalName } } }"


def _exported(output: str) -> dict[str, str]:
    """Every `export NAME=value ...` line of the banner, as a shell would read it."""
    found: dict[str, str] = {}
    for line in output.splitlines():
        if line.strip().startswith("export "):
            words = shlex.split(line.strip())
            found.update(word.split("=", 1) for word in words[1:])  # type: ignore[misc]
    return found


def test_a_demo_token_line_works_with_query_as_a_flag_and_from_the_environment(tmp_path: Path) -> None:
    port = free_port()
    with running(
        "demo", "--port", str(port), env=environment(), log=tmp_path / "demo.log", cwd=tmp_path
    ) as demo:
        demo.wait_for(lambda: "Press Ctrl+C to stop." in demo.output(), "printed tokens")
        exported = _exported(demo.output())
        url = f"http://127.0.0.1:{port}/graphql"
        env = environment(INCENTIVES_API_URL=url, INCENTIVES_HOME=str(tmp_path / "home"))

        flagged = incentives("query", "--token", exported["GLOBAL_ADMIN_TOKEN"], VIEWER, env=env)
        from_env = incentives(
            "query", VIEWER, env={**env, "INCENTIVES_TOKEN": exported["FABRIKAM_GLOBAL_ADMIN_TOKEN"]}
        )
        unsigned = incentives("query", VIEWER, env={**environment(**exported), **env})
        assert demo.stop(signal.SIGINT) == 0, demo.output()

    assert flagged.returncode == 0, flagged.stderr
    assert json.loads(flagged.stdout)["data"]["viewer"]["organization"] == {"legalName": "Contoso Ltd"}
    assert from_env.returncode == 0, from_env.stderr
    assert json.loads(from_env.stdout)["data"]["viewer"]["organization"] == {"legalName": "Fabrikam SARL"}
    assert unsigned.returncode == 1
    assert "incentives login" in unsigned.stderr
    assert "GET /graphql" not in demo.output()
    assert "POST /graphql" not in demo.output()


def test_login_with_a_device_code_on_the_demo_then_query_as_the_picked_persona(tmp_path: Path) -> None:
    port = free_port()
    with running(
        "demo", "--port", str(port), env=environment(), log=tmp_path / "demo.log", cwd=tmp_path
    ) as demo:
        demo.wait_for(lambda: "Press Ctrl+C to stop." in demo.output(), "printed tokens")
        env = environment(**_exported(demo.output()))
        assert env["AZURE_AUTHORITY_HOST"].startswith("http://127.0.0.1:")
        with running("login", env=env, log=tmp_path / "login.log", cwd=tmp_path) as login:
            login.wait_for(lambda: "enter the code" in login.output(), "a device code")
            page, code = re.search(r"open the page (\S+) and enter the code (\S+) ", login.output()).groups()  # type: ignore[union-attr]
            assert page == f"{env['AZURE_AUTHORITY_HOST']}/devicelogin"
            with httpx.Client(trust_env=False, timeout=10) as browser:
                form = browser.get(page)
                assert form.status_code == 200
                persona = re.search(r'<option value="([^"]+)">([^<]*)&lt;maja@contoso', form.text)
                assert persona is not None, form.text
                wrong = browser.post(page, data={"user_code": "NOPE", "user": persona.group(1)})
                signed_in = browser.post(page, data={"user_code": code, "user": persona.group(1)})
            login.wait_for(lambda: "Signed in as" in login.output(), "signed in")
            assert login.stop() in (0, -signal.SIGTERM)
        queried = incentives("query", VIEWER, env=env, cwd=tmp_path)
        assert demo.stop(signal.SIGINT) == 0, demo.output()

    assert wrong.status_code == 400
    assert "NOPE" in wrong.text
    assert signed_in.status_code == 200
    assert "Signed in as" in signed_in.text
    assert queried.returncode == 0, queried.stdout + queried.stderr
    viewer = json.loads(queried.stdout)["data"]["viewer"]
    assert viewer["organization"] == {"legalName": "Contoso Ltd"}
    assert viewer["displayName"] == persona.group(2).strip()
