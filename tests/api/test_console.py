"""The console's files as `serve` hands them out: only when INCENTIVES_CONSOLE_CLIENT_ID is set,
under a Content-Security-Policy, with the pinned libraries it names, operations the schema
accepts and every word in English, French and Swedish. (Its behaviour: tests/browser.)"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

from graphql import ExecutableDefinitionNode, build_schema, parse, validate

from api.console import STATIC
from domain.mail.messages import get_started_url
from tests.support.configured_api import configured_api
from tests.support.entra import API_CLIENT_ID, RunningEntra

ROOT = Path(__file__).resolve().parents[2]
CONSOLE_ID = "9b2e7c41-3d5a-4f86-a0b1-c2d3e4f5a6b7"


def test_the_console_is_served_only_when_its_app_registration_is_configured(
    entra: RunningEntra, sqlite_url: str
) -> None:
    with configured_api(sqlite_url, authority=entra.base_url) as off:
        assert off.http.get("/console/").status_code == 404
        assert off.http.get("/console/config.json").status_code == 404

    with configured_api(sqlite_url, authority=entra.base_url, console_client_id=CONSOLE_ID) as on:
        page = on.http.get("/console/")
        opened_alone = on.http.get("/console/index.html")
        config = on.http.get("/console/config.json").json()
        operations = on.http.get("/console/operations.graphql").text
        script = on.http.get("/console/console.js")
        redirected = on.http.get("/console", follow_redirects=False)

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert f"connect-src 'self' {entra.base_url}" in policy  # MSAL.js talks to the authority
    assert "unsafe" not in policy
    assert opened_alone.headers["content-security-policy"] == policy  # every file, however reached
    assert script.headers["content-security-policy"] == policy
    assert config["clientId"] == CONSOLE_ID
    assert config["authorityHost"] == entra.base_url
    assert config["tenant"] == "organizations"
    assert config["scopes"] == [f"api://{API_CLIENT_ID}/access_as_user"]
    assert config["taxReminderDays"] == 30  # INCENTIVES_TAX_REMINDER_DAYS, as the reminder mails
    # The page names its operations by this id, never by their text: a trusted document's.
    assert config["documentId"] == "sha256:" + hashlib.sha256(operations.encode()).hexdigest()
    assert config["documentId"] in json.loads((ROOT / "trusted-documents.json").read_text(encoding="utf-8"))
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert redirected.status_code in (307, 308)
    assert redirected.headers["location"].endswith("/console/")


def test_an_invitation_email_link_answers_the_console_page_before_sign_in(
    entra: RunningEntra, sqlite_url: str
) -> None:
    link = get_started_url("https://partner.example", 123)
    with configured_api(sqlite_url, authority=entra.base_url, console_client_id=CONSOLE_ID) as on:
        page = on.http.get(urlsplit(link).path)  # no token: the page signs in, then opens the invitation
        home = on.http.get("/console/")
        not_a_number = on.http.get("/console/invitations/abc")

    assert link == "https://partner.example/console/invitations/123"  # rule 22's link
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.text == home.text
    assert page.headers["content-security-policy"] == home.headers["content-security-policy"]
    # Its files are named from /console/, so the page loads them from any depth.
    named = re.findall(r'(?:src|href)="([^"#]+)"', page.text)
    assert len(named) == 4
    assert all(url.startswith("/console/") for url in named), named
    assert not_a_number.status_code == 404


def test_the_page_loads_the_pinned_files_with_their_integrity() -> None:
    pinned = {entry["file"]: entry for entry in json.loads((STATIC / "versions.json").read_text("utf-8"))}
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    loaded = dict(re.findall(r'<script src="/console/([\w.-]+)" integrity="([^"]+)"', page))

    assert set(loaded) == {"msal-browser.min.js", "graphql-ws.min.js"}
    for name, integrity in loaded.items():
        digest = hashlib.sha384((STATIC / name).read_bytes()).digest()
        assert integrity == pinned[name]["integrity"] == "sha384-" + base64.b64encode(digest).decode()
    assert "<script>" not in page  # no inline script: the policy allows none


def test_every_console_operation_is_valid_against_the_committed_schema() -> None:
    schema = build_schema((ROOT / "schema.graphql").read_text(encoding="utf-8"))
    document = parse((STATIC / "operations.graphql").read_text(encoding="utf-8"))
    names = [
        definition.name.value
        for definition in document.definitions
        if isinstance(definition, ExecutableDefinitionNode) and definition.name
    ]

    assert validate(schema, document) == []
    assert all(name.startswith("Console") for name in names)  # apart from the SPA examples' names
    script = scripts()
    used = set(re.findall(r'"(Console\w+)"', script))  # every operation name the page sends
    assert len(used) >= 15, used
    assert used <= set(names), used - set(names)


def test_every_word_of_the_console_exists_in_english_french_and_swedish() -> None:
    source = (STATIC / "i18n.js").read_text(encoding="utf-8")
    tables = {
        language: dict(re.findall(r'^\s+"([\w.]+)": "((?:[^"\\]|\\.)*)",$', body, re.MULTILINE))
        for language, body in re.findall(r"^  (en|fr|sv): \{\n(.*?)^  \},", source, re.MULTILINE | re.DOTALL)
    }
    used = set(re.findall(r'\bt\(\s*"([\w.]+)"', scripts()))

    assert set(tables) == {"en", "fr", "sv"}
    assert len(tables["en"]) > 100
    assert set(tables["fr"]) == set(tables["en"]) == set(tables["sv"])
    assert used <= set(tables["en"]), used - set(tables["en"])
    for language in ("fr", "sv"):  # the same placeholders in every language
        for key, text in tables["en"].items():
            placeholders = sorted(re.findall(r"\{(\w+)\}", text))
            assert sorted(re.findall(r"\{(\w+)\}", tables[language][key])) == placeholders, (language, key)


def scripts() -> str:
    """The console's own modules (not the vendored .min.js files), one after the other."""
    modules = sorted(path for path in STATIC.glob("*.js") if not path.name.endswith(".min.js"))
    assert len(modules) > 5, modules
    return "\n".join(path.read_text(encoding="utf-8") for path in modules)
