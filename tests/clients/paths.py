"""Where the clients' sources, the SDL, the released schemas and the changelog live."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "schema.graphql"
CHANGELOG = ROOT / "CHANGELOG.md"
RELEASES = ROOT / "releases"
CLIENTS = ROOT / "clients"
OPERATIONS = CLIENTS / "operations"


def operations_sdl() -> str:
    """Every kept operation and fragment, as one document (fragments are shared across files)."""
    return "\n".join(path.read_text(encoding="utf-8") for path in sorted(OPERATIONS.glob("*.graphql")))
