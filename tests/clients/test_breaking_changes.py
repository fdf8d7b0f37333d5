"""The breaking-change gate: schema.graphql against the last released schema and CHANGELOG.md."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from tests.clients.paths import CHANGELOG, RELEASES, SCHEMA
from tests.clients.schema_releases import changelog_sections, gate, last_release, subject, version_text

RELEASED = """
type Query { programs(first: Int = 20): [Program!]! viewer: Viewer! }
type Viewer { objectId: ID! legacyName: String }
type Program { code: String! status: Status! }
enum Status { ACTIVE DISCONTINUED }
"""
WITHOUT_LEGACY_NAME = RELEASED.replace("legacyName: String", "")
ONE_OH = "# Changelog\n\n## [Unreleased]\n\n## [1.0.0] - 2026-12-04\n\n- First release.\n"


def with_section(version: str, text: str) -> str:
    return ONE_OH.replace("## [Unreleased]\n", f"## [Unreleased]\n\n## [{version}] - 2027-02-01\n\n{text}\n")


def test_schema_graphql_has_no_breaking_change_the_changelog_does_not_record() -> None:
    released = last_release(RELEASES)
    verdict = gate(
        released.version,
        released.path.read_text(encoding="utf-8"),
        SCHEMA.read_text(encoding="utf-8"),
        CHANGELOG.read_text(encoding="utf-8"),
    )
    assert (verdict.unrecorded, verdict.unlisted) == ([], []), verdict.report()
    for change in verdict.dangerous:  # allowed, but a client may see something new: say what
        warnings.warn(f"dangerous schema change since the last release: {change.description}", stacklevel=1)


def test_the_last_release_has_its_changelog_section() -> None:
    released = last_release(RELEASES)
    sections = changelog_sections(CHANGELOG.read_text(encoding="utf-8"))
    assert released.version in sections, f"CHANGELOG.md has no ## [{version_text(released.version)}]"
    assert max(sections) >= released.version


def test_the_last_release_is_the_highest_version_not_the_last_file_name(tmp_path: Path) -> None:
    for version in ("1.0.0", "1.10.0", "1.9.3"):
        (tmp_path / f"schema-{version}.graphql").write_text(RELEASED)
    (tmp_path / "notes.graphql").write_text("")
    assert last_release(tmp_path).version == (1, 10, 0)


def test_a_removed_field_fails_the_gate_naming_it() -> None:
    verdict = gate((1, 0, 0), RELEASED, WITHOUT_LEGACY_NAME, ONE_OH)
    assert [subject(change) for change in verdict.unrecorded] == ["Viewer.legacyName"]
    assert "`Viewer.legacyName`: Field Viewer.legacyName was removed." in verdict.report()
    assert "## [2.0.0]" in verdict.report()


def test_a_removed_field_passes_once_a_new_major_version_names_it() -> None:
    changelog = with_section("2.0.0", "### Removed\n\n- `Viewer.legacyName`: read `displayName`.")
    verdict = gate((1, 0, 0), RELEASED, WITHOUT_LEGACY_NAME, changelog)
    assert verdict.unrecorded == []
    assert [subject(change) for change in verdict.breaking] == ["Viewer.legacyName"]


@pytest.mark.parametrize(
    ("version", "text"),
    [
        ("1.1.0", "- Removed `Viewer.legacyName`."),  # a minor version cannot break
        ("2.0.0", "- Removed `Viewer.legacy`."),  # another name
        ("2.0.0", "- Removed `Viewer.legacyNameV2`."),  # a longer name is not this one
    ],
)
def test_a_breaking_change_not_named_under_a_higher_major_still_fails(version: str, text: str) -> None:
    verdict = gate((1, 0, 0), RELEASED, WITHOUT_LEGACY_NAME, with_section(version, text))
    assert [subject(change) for change in verdict.unrecorded] == ["Viewer.legacyName"]


def test_a_major_already_released_does_not_excuse_a_new_break() -> None:
    changelog = with_section("2.0.0", "- Removed `Viewer.legacyName`.")
    verdict = gate((2, 0, 0), RELEASED, WITHOUT_LEGACY_NAME, changelog)
    assert [subject(change) for change in verdict.unrecorded] == ["Viewer.legacyName"]


@pytest.mark.parametrize(
    ("changed", "named"),
    [
        (RELEASED.replace(" DISCONTINUED", ""), "Status.DISCONTINUED"),
        (RELEASED.replace("first: Int = 20", "first: Int!"), "Query.programs(first:)"),
        (RELEASED.replace("code: String!", "code: Int!"), "Program.code"),
        (RELEASED.replace("viewer: Viewer!", "viewer: Viewer! search(text: String!): Int"), None),
    ],
)
def test_each_kind_of_break_is_named_as_the_changelog_must_name_it(changed: str, named: str | None) -> None:
    verdict = gate((1, 0, 0), RELEASED, changed, ONE_OH)
    assert [subject(change) for change in verdict.unrecorded] == ([named] if named else [])


def test_additions_are_not_breaking_and_optional_arguments_are_reported_as_dangerous() -> None:
    # What the Relay and documentation work adds: backward pagination, descriptions, @specifiedBy.
    grown = """
    "The API's root." type Query {
      programs(first: Int = 20, last: Int, before: String): [Program!]! viewer: Viewer! }
    type Viewer { objectId: ID! legacyName: String displayName: String }
    "A program." type Program { code: String! status: Status! }
    enum Status { ACTIVE DISCONTINUED }
    scalar Date @specifiedBy(url: "https://scalars.graphql.org/andimarek/local-date.html")
    """
    verdict = gate((1, 0, 0), RELEASED, grown, ONE_OH)
    assert verdict.breaking == []
    assert [change.description for change in verdict.dangerous] == [
        "An optional argument Query.programs(last:) was added.",
        "An optional argument Query.programs(before:) was added.",
    ]
    assert "dangerous: An optional argument Query.programs(last:) was added." in verdict.report()


def test_changelog_sections_run_to_the_next_heading() -> None:
    changelog = with_section("2.0.0", "- Removed `Viewer.legacyName`.")
    sections = changelog_sections(changelog)
    assert sorted(sections) == [(1, 0, 0), (2, 0, 0)]
    assert "legacyName" in sections[(2, 0, 0)]
    assert "legacyName" not in sections[(1, 0, 0)]


WITH_PAUSED = RELEASED.replace("ACTIVE DISCONTINUED", "ACTIVE DISCONTINUED PAUSED")


def test_an_added_enum_value_is_not_breaking_but_must_be_listed_as_an_addition() -> None:
    verdict = gate((1, 0, 0), RELEASED, WITH_PAUSED, ONE_OH)
    assert verdict.unrecorded == []
    assert [subject(change) for change in verdict.unlisted] == ["Status.PAUSED"]
    assert "added, not in CHANGELOG.md: `Status.PAUSED`" in verdict.report()


@pytest.mark.parametrize(
    "changelog",
    [
        ONE_OH.replace("## [Unreleased]\n", "## [Unreleased]\n\n### Added\n\n- `Status.PAUSED`: on hold.\n"),
        with_section("1.1.0", "### Added\n\n- `Status.PAUSED`."),
    ],
    ids=["unreleased", "next-minor"],
)
def test_an_added_enum_value_listed_since_the_release_passes(changelog: str) -> None:
    assert gate((1, 0, 0), RELEASED, WITH_PAUSED, changelog).unlisted == []


def test_an_added_enum_value_listed_only_under_the_release_itself_is_still_unlisted() -> None:
    changelog = ONE_OH.replace("- First release.", "- First release. `Status.PAUSED` later.")
    assert [subject(c) for c in gate((1, 0, 0), RELEASED, WITH_PAUSED, changelog).unlisted] == [
        "Status.PAUSED"
    ]
