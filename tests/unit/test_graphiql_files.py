"""GraphiQL's vendored files are what versions.json pins, and the page loads each with that integrity."""

from __future__ import annotations

import base64
import hashlib
import json
import re

from api.graphiql import ASSETS_PATH, STATIC, graphiql_page, manifest


def test_every_vendored_file_matches_its_pinned_integrity() -> None:
    entries = json.loads((STATIC / "versions.json").read_text(encoding="utf-8"))
    assert {entry["package"] for entry in entries} == {"graphiql", "react", "react-dom"}
    for entry in entries:
        digest = hashlib.sha384((STATIC / entry["file"]).read_bytes()).digest()
        assert entry["integrity"] == "sha384-" + base64.b64encode(digest).decode(), entry["file"]


def test_the_page_loads_only_vendored_files_each_with_its_integrity() -> None:
    page = graphiql_page(personas_url="")
    loaded = re.findall(r'(?:src|href)="([^"]+)" integrity="([^"]+)"', page)
    assert sorted(loaded) == sorted((f"{ASSETS_PATH}/{name}", sri) for name, sri in manifest().items())
    assert "http://" not in page
    assert "https://" not in page
    assert "{{" not in page


def test_the_personas_url_cannot_close_the_script_element() -> None:
    page = graphiql_page(personas_url="http://127.0.0.1:1/</script><script>alert(1)")
    assert "</script><script>alert(1)" not in page


def test_the_consoles_vendored_libraries_match_their_pinned_integrity() -> None:
    console = STATIC.parent / "console"
    entries = json.loads((console / "versions.json").read_text(encoding="utf-8"))
    assert {(entry["package"], entry["version"]) for entry in entries} == {
        ("@azure/msal-browser", "4.30.0"),
        ("graphql-ws", "6.4.2"),
    }
    for entry in entries:
        digest = hashlib.sha384((console / entry["file"]).read_bytes()).digest()
        assert entry["integrity"] == "sha384-" + base64.b64encode(digest).decode(), entry["file"]
