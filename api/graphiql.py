"""GraphiQL from files that ship with the package (api/static/graphiql/), so it works offline.

    page = graphiql_page(personas_url="")     # the HTML, with each file's SRI integrity filled in
    Mount(ASSETS_PATH, graphiql_assets())     # the pinned files themselves

versions.json pins each file (package, version, SHA-384); `scripts/refresh_graphiql.py` refreshes
them from the npm registry. The page keeps tokens in memory only: never in localStorage.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent / "static" / "graphiql"
ASSETS_PATH = "/graphiql"
_PLACEHOLDER = re.compile(r"\{\{(asset|integrity):([\w.-]+)\}\}")


@cache
def manifest() -> dict[str, str]:
    """Served file name -> its SRI integrity (`sha384-...`), from versions.json."""
    entries = json.loads((STATIC / "versions.json").read_text(encoding="utf-8"))
    return {entry["file"]: entry["integrity"] for entry in entries}


def graphiql_page(*, personas_url: str) -> str:
    """The GraphiQL page; with `personas_url` it offers the sample users of that service."""
    integrity = manifest()

    def fill(match: re.Match[str]) -> str:
        kind, name = match.groups()
        return f"{ASSETS_PATH}/{name}" if kind == "asset" else integrity[name]

    template = (STATIC / "index.html").read_text(encoding="utf-8")
    # JSON inside <script>: "<" escaped, so no value can close the element.
    config = json.dumps({"personasUrl": personas_url or None}).replace("<", "\\u003c")
    return _PLACEHOLDER.sub(fill, template).replace("{{config}}", config)


def graphiql_assets() -> StaticFiles:
    return StaticFiles(directory=STATIC)
