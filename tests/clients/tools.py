"""The client tools CI installs (clients/node_modules by `npm ci`, clients/.venv-codegen for
ariadne-codegen), found or the test skipped with what to install."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.clients.paths import CLIENTS

NODE_BIN = CLIENTS / "node_modules" / ".bin"
ARIADNE_CODEGEN = CLIENTS / ".venv-codegen" / "bin" / "ariadne-codegen"
NPM_CI = "npm ci --prefix clients --no-audit --no-fund"
CODEGEN_VENV = (
    "python3 -m venv clients/.venv-codegen && "
    "clients/.venv-codegen/bin/pip install -r clients/codegen-requirements.lock"
)
TOOL_SECONDS = 180


def npm_tool(name: str) -> Path:
    """clients/node_modules/.bin/<name>, or skip: the npm tools are not installed."""
    tool = NODE_BIN / name
    if shutil.which("node") is None or not tool.exists():
        pytest.skip(f"{tool.relative_to(CLIENTS.parent)} is missing: run `{NPM_CI}` (needs Node.js)")
    return tool


def ariadne_codegen() -> Path:
    """ariadne-codegen in its own venv, or skip: it is not installed."""
    if not ARIADNE_CODEGEN.exists():
        pytest.skip(f"{ARIADNE_CODEGEN.relative_to(CLIENTS.parent)} is missing: run `{CODEGEN_VENV}`")
    return ARIADNE_CODEGEN


def run(
    *command: str | Path, cwd: Path = CLIENTS, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a tool to completion from clients/, its output captured for the assertion message."""
    return subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=None if env is None else dict(env),
        capture_output=True,
        text=True,
        timeout=TOOL_SECONDS,
        check=False,
    )


@contextmanager
def apart() -> Iterator[Path]:
    """A directory of its own under clients/generated/ (npm's packages resolve from there), removed
    afterwards: what a test generates there races no other test regenerating clients/generated/ts."""
    parent = CLIENTS / "generated"  # git-ignored: absent from a fresh clone
    parent.mkdir(exist_ok=True)
    directory = Path(tempfile.mkdtemp(prefix="apart-", dir=parent))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def codegen_into(directory: Path) -> subprocess.CompletedProcess[str]:
    """graphql-codegen with codegen.ts's settings, writing to `directory`/generated/ts/."""
    config = directory / "codegen.ts"
    config.write_text(
        f'import base from "{CLIENTS / "codegen"}";\n'
        "const [preset] = Object.values(base.generates);\n"
        f'export default {{ ...base, generates: {{ "{directory / "generated" / "ts"}/": preset }} }};\n',
        encoding="utf-8",
    )
    return run(npm_tool("graphql-codegen"), "--config", config, "--silent")
