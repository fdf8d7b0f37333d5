"""The breaking-change gate: `schema.graphql` against the last released schema, and CHANGELOG.md.

    released = last_release(RELEASES)                 # (1, 0, 0), releases/schema-1.0.0.graphql
    verdict = gate(released.version, released.path.read_text(), current_sdl, changelog_text)
    assert verdict.unrecorded == [], verdict.report()

A breaking change (graphql-core's `find_breaking_changes`) passes only when CHANGELOG.md has a
section for a version of a higher major than the last release (`## [2.0.0] - 2027-03-01`) that
names it: `Query.field`, `Type.field(argument:)`, `Enum.VALUE`, `Input.field`, `Type` or
`@directive`, as `subject` derives it from graphql-core's description. Dangerous changes (an enum
value or optional argument added, a default changed) are reported, never refused; but an enum value
added since the release must be listed (`Enum.VALUE`) under `## [Unreleased]` or a later version's
section, as a client's exhaustive switch over the enum meets it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from graphql import (
    BreakingChange,
    DangerousChange,
    DangerousChangeType,
    build_schema,
    find_breaking_changes,
    find_dangerous_changes,
)

Version = tuple[int, int, int]
RELEASED_FILE = re.compile(r"schema-(\d+)\.(\d+)\.(\d+)\.graphql")
SECTION = re.compile(r"^## \[(\d+)\.(\d+)\.(\d+)\][^\n]*$", re.MULTILINE)
UNRELEASED = re.compile(r"^## \[Unreleased\][^\n]*\n(.*?)(?=^## |\Z)", re.MULTILINE | re.DOTALL)
# "Field Query.x was removed.", "Argument T.f(a:) has changed ...", "Enum value E.V was removed."
DOTTED = re.compile(r"[A-Za-z_]\w*\.[A-Za-z_]\w*(?:\([A-Za-z_]\w*:\))?")
DIRECTIVE = re.compile(r"@[A-Za-z_]\w*")
LEADING_NAME = re.compile(r"(?:Standard scalar )?([A-Za-z_]\w*)")


@dataclass(frozen=True)
class Release:
    version: Version
    path: Path


def version_text(version: Version) -> str:
    return ".".join(str(part) for part in version)


def last_release(directory: Path) -> Release:
    """The released schema of the highest version in `directory` (schema-X.Y.Z.graphql)."""
    found = [
        Release((int(m[1]), int(m[2]), int(m[3])), path)
        for path in directory.iterdir()
        if (m := RELEASED_FILE.fullmatch(path.name))
    ]
    if not found:
        raise FileNotFoundError(f"no schema-X.Y.Z.graphql in {directory}")
    return max(found, key=lambda release: release.version)


def changelog_sections(changelog: str) -> dict[Version, str]:
    """Each `## [X.Y.Z] ...` section's text (heading included), by version."""
    headings = list(SECTION.finditer(changelog))
    ends = [heading.start() for heading in headings[1:]] + [len(changelog)]
    return {
        (int(h[1]), int(h[2]), int(h[3])): changelog[h.start() : end]
        for h, end in zip(headings, ends, strict=False)
    }


def subject(change: BreakingChange | DangerousChange) -> str:
    """What a breaking change is about, as CHANGELOG.md must name it: `Query.x`, `T.f(a:)`, `@d`, `T`."""
    for pattern in (DOTTED, DIRECTIVE):
        if found := pattern.search(change.description):
            return found[0]
    leading = LEADING_NAME.match(change.description)
    return leading[1] if leading else change.description


def names(text: str, name: str) -> bool:
    """`text` mentions `name` as a whole (`Query.x` is not named by `Query.xy`)."""
    return re.search(rf"(?<![\w.@]){re.escape(name)}(?![\w(])", text) is not None


@dataclass
class Verdict:
    released: Version
    breaking: list[BreakingChange] = field(default_factory=list)
    dangerous: list[DangerousChange] = field(default_factory=list)
    unrecorded: list[BreakingChange] = field(default_factory=list)
    unlisted: list[DangerousChange] = field(default_factory=list)  # enum values added, not in CHANGELOG.md

    def report(self) -> str:
        lines = [f"schema.graphql against the released {version_text(self.released)}:"]
        lines += [
            f"  breaking, not in CHANGELOG.md: `{subject(c)}`: {c.description}" for c in self.unrecorded
        ]
        lines += [f"  breaking, recorded: `{subject(c)}`" for c in self.breaking if c not in self.unrecorded]
        lines += [f"  dangerous: {c.description}" for c in self.dangerous]
        lines += [f"  added, not in CHANGELOG.md: `{subject(c)}`" for c in self.unlisted]
        if self.unlisted:
            lines.append(
                "List each added enum value under ## [Unreleased], ### Added, naming it as quoted above."
            )
        if self.unrecorded:
            next_major = f"{self.released[0] + 1}.0.0"
            lines.append(
                f"Record each under a new major version in CHANGELOG.md (`## [{next_major}] - <date>`, "
                "naming it as quoted above), or make the change additive."
            )
        return "\n".join(lines)


def gate(released: Version, released_sdl: str, current_sdl: str, changelog: str) -> Verdict:
    """Compare the schemas; a breaking change is unrecorded unless a higher major's section names it."""
    old, new = build_schema(released_sdl), build_schema(current_sdl)
    verdict = Verdict(released, find_breaking_changes(old, new), find_dangerous_changes(old, new))
    majors = "\n".join(
        text for version, text in changelog_sections(changelog).items() if version[0] > released[0]
    )
    verdict.unrecorded = [change for change in verdict.breaking if not names(majors, subject(change))]
    since = "\n".join(
        [*UNRELEASED.findall(changelog)]
        + [text for version, text in changelog_sections(changelog).items() if version > released]
    )
    verdict.unlisted = [
        change
        for change in verdict.dangerous
        if change.type is DangerousChangeType.VALUE_ADDED_TO_ENUM and not names(since, subject(change))
    ]
    return verdict
