"""The README stays a front door: short, and every relative link in it leads somewhere.

The site itself (`docs/`, `mkdocs.yml`) is checked by `mkdocs build --strict` in `./run test`;
the README lies outside it, so its links are checked here.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
MOST_LINES = 250

_FENCE = re.compile(r"^ {0,3}```.*?^ {0,3}```[^\n]*$", re.MULTILINE | re.DOTALL)
_CODE = re.compile(r"`[^`\n]*`")
# [text](target) and ![alt](target), an optional "title" after the target.
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def relative_links(markdown: str) -> list[str]:
    """The link and image targets of `markdown` that name a file of the repository, code left out."""
    prose = _CODE.sub("", _FENCE.sub("", markdown))
    targets = _LINK.findall(prose)
    return [target for target in targets if not _SCHEME.match(target) and not target.startswith("#")]


def _anchors(page: Path) -> set[str]:
    """The anchors a Markdown page's headings get (lower case, punctuation dropped, spaces as '-')."""
    text = _FENCE.sub("", page.read_text(encoding="utf-8"))
    headings = re.findall(r"^#{1,6} +(.+?) *#*$", text, re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def broken_links(readme: Path) -> list[str]:
    """The relative links of `readme` whose file (or heading, for a Markdown page) does not exist."""
    links = relative_links(readme.read_text(encoding="utf-8"))
    return [target for target in links if _missing(readme, target)]


def _missing(readme: Path, target: str) -> bool:
    path, _, anchor = target.partition("#")
    file = (readme.parent / path).resolve()
    if not file.exists():
        return True
    return bool(anchor) and file.suffix == ".md" and anchor not in _anchors(file)


def test_the_readme_is_at_most_250_lines() -> None:
    lines = len(README.read_text(encoding="utf-8").splitlines())
    assert lines <= MOST_LINES, f"README.md has {lines} lines: move the detail to a page of docs/"


def test_every_relative_link_in_the_readme_exists() -> None:
    assert relative_links(README.read_text(encoding="utf-8")), "the README links into docs/"
    assert broken_links(README) == []


def test_a_link_to_a_missing_file_or_heading_is_reported(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "page.md").write_text("# Page\n\n## Typed clients\n", encoding="utf-8")
    (tmp_path / "shot.png").write_bytes(b"")
    readme = tmp_path / "README.md"
    readme.write_text(
        "[page](docs/page.md) [section](docs/page.md#typed-clients) ![shot](shot.png)\n"
        "[gone](docs/gone.md) [no such heading](docs/page.md#settings) ![none](none.png)\n"
        "[site](https://example.com/x.md) [here](#top) `[code](docs/code.md)`\n"
        "```sh\n[fenced](docs/fenced.md)\n```\n",
        encoding="utf-8",
    )

    assert broken_links(readme) == ["docs/gone.md", "docs/page.md#settings", "none.png"]


def test_the_readme_and_the_pages_it_links_say_what_is_modelled_otherwise() -> None:
    """Rule 28: competency requirements are the Solutions Partner designation; password resets are
    Entra ID's. Rule 22: the invitations page says where Get Started lands."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    linked = " ".join(
        (ROOT / target.split("#")[0]).read_text(encoding="utf-8")
        for target in relative_links(readme)
        if target.endswith(".md") or ".md#" in target
    )
    said = re.sub(r"\s+", " ", readme + " " + linked)

    assert re.search(r"competency requirements\W+.{0,80}Solutions Partner designation", said, re.IGNORECASE)
    assert re.search(r"password resets are Entra ID's", said, re.IGNORECASE)
    assert "/console/invitations/{number}" in said
