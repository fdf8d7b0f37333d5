"""Refresh the browser libraries the API ships (api/static/graphiql/: GraphiQL and React;
api/static/console/: MSAL.js, for the browser console) from the npm registry.

    python scripts/refresh_graphiql.py            # the versions pinned below
    python scripts/refresh_graphiql.py --check    # only verify the files against the manifest

Each file is taken from its package's tarball (`npm pack`, so the registry's own integrity check
applies), written next to the page, and its SHA-384 recorded in versions.json; the page's
`integrity` attributes are filled from that manifest when it is served. Nothing is fetched at
run time: the files ship with the package.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

STATIC = Path(__file__).resolve().parents[1] / "api" / "static"
# Each folder's files: (package, version, file inside the package, name served); each folder has
# its own versions.json.
PINNED_BY_FOLDER = {
    "graphiql": (
        ("react", "18.2.0", "umd/react.production.min.js", "react.production.min.js"),
        ("react-dom", "18.2.0", "umd/react-dom.production.min.js", "react-dom.production.min.js"),
        ("graphiql", "3.8.3", "graphiql.min.js", "graphiql.min.js"),
        ("graphiql", "3.8.3", "graphiql.min.css", "graphiql.min.css"),
    ),
    "console": (
        ("@azure/msal-browser", "4.30.0", "lib/msal-browser.min.js", "msal-browser.min.js"),
        ("@azure/msal-browser", "4.30.0", "LICENSE", "msal-browser.LICENSE.txt"),  # MIT
        ("graphql-ws", "6.4.2", "umd/graphql-ws.min.js", "graphql-ws.min.js"),  # subscriptions
        ("graphql-ws", "6.4.2", "LICENSE.md", "graphql-ws.LICENSE.md"),  # MIT
    ),
}


def sri(data: bytes) -> str:
    """The Subresource Integrity value of `data`: `sha384-<base64>`."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def refresh() -> None:
    for folder, pinned in PINNED_BY_FOLDER.items():
        target = STATIC / folder
        target.mkdir(exist_ok=True)
        entries = []
        with tempfile.TemporaryDirectory() as scratch:
            for package, version, inner, served in pinned:
                tarball = _pack(package, version, Path(scratch))
                with tarfile.open(tarball) as archive:
                    member = archive.extractfile(f"package/{inner}")
                    if member is None:
                        raise SystemExit(f"{package}@{version} has no {inner}")
                    data = member.read()
                (target / served).write_bytes(data)
                entry = {"package": package, "version": version, "file": served, "integrity": sri(data)}
                entries.append(entry)
                print(f"{folder}/{served}: {package}@{version} {inner} ({len(data):,} bytes)")
        (target / "versions.json").write_text(json.dumps(entries, indent=2) + "\n", encoding="utf-8")


def _pack(package: str, version: str, scratch: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm is needed to fetch the packages")
    done = subprocess.run(  # noqa: S603 (the pinned names above, no shell)
        [npm, "pack", f"{package}@{version}", "--silent", "--pack-destination", str(scratch)],
        capture_output=True,
        text=True,
        check=True,
    )
    return scratch / done.stdout.strip().splitlines()[-1]


def check() -> int:
    wrong = [
        f"{folder}/{entry['file']}"
        for folder in PINNED_BY_FOLDER
        for entry in json.loads((STATIC / folder / "versions.json").read_text(encoding="utf-8"))
        if sri((STATIC / folder / entry["file"]).read_bytes()) != entry["integrity"]
    ]
    for name in wrong:
        print(f"{name} does not match versions.json", file=sys.stderr)
    return 1 if wrong else 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="verify the files against versions.json")
    if parser.parse_args().check:
        return check()
    refresh()
    return 0


if __name__ == "__main__":
    sys.exit(main())
