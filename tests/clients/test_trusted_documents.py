"""The committed manifest of trusted documents (trusted-documents.json) against what the apps ship:
the console's operations.graphql, clients/operations and graphql-codegen's persisted documents.
`incentives documents extract` and `check` run as processes, the way CI and a developer run them."""

from __future__ import annotations

import json
from pathlib import Path

from graphql import OperationDefinitionNode, parse

from api.trusted.extract import CONSOLE_OPERATIONS, operation_documents
from api.trusted.manifest import MANIFEST, document_id, load, printed_id
from tests.clients.paths import OPERATIONS
from tests.clients.tools import apart, codegen_into, npm_tool, run
from tests.e2e.harness import environment, incentives

REFRESH = "cd clients && npx graphql-codegen --config codegen.ts; cd .. && incentives documents extract"


def operation_names(text: str) -> list[str]:
    return [
        node.name.value
        for node in parse(text).definitions
        if isinstance(node, OperationDefinitionNode) and node.name is not None
    ]


def missing(extracted: dict[str, str], committed: dict[str, str]) -> list[str]:
    """The operations of every extracted document the committed manifest lacks."""
    return sorted(
        {name for key, text in extracted.items() if key not in committed for name in operation_names(text)}
    )


def test_the_console_and_each_kept_operation_are_trusted_as_they_are_sent() -> None:
    committed = load()
    console = CONSOLE_OPERATIONS.read_text(encoding="utf-8")
    kept = operation_documents(OPERATIONS.glob("*.graphql"))

    assert document_id(console) in committed, f"the console's operations.graphql changed: {REFRESH}"
    absent = missing({document_id(text): text for text in kept}, committed)
    assert absent == [], f"not in {MANIFEST.name}: {absent}; {REFRESH}"
    names = [name for text in kept for name in operation_names(text)]
    assert len(kept) == len(names) == len(set(names)) >= 12  # one document per operation
    # Apollo's persisted-query link hashes the document as graphql-js prints it: the same id.
    assert all(printed_id(text) == document_id(text) for text in kept)


def test_documents_check_prints_each_id_with_its_operations_costs() -> None:
    checked = incentives("documents", "check", env=environment())

    assert checked.returncode == 0, checked.stderr
    committed = load()
    for key in committed:
        assert f"{key}\n" in checked.stdout
    assert "  query Dashboard: cost " in checked.stdout
    assert "  mutation ConsoleReview: cost " in checked.stdout
    assert f"All {len(committed)} trusted documents are valid." in checked.stdout


def test_documents_check_fails_naming_the_operation_a_document_would_be_refused_for(tmp_path: Path) -> None:
    nested = "locations { edges { node { organization { " * 3 + "id" + " } } } }" * 3
    deep = f"query TooDeep {{ viewer {{ organization {{ {nested} }} }} }}"
    texts = [
        "query Fine { currentFiscalYear }",
        "query Misspelled { viewer { objectID } }\nquery Other { currentFiscalYear }",
        "fragment Wrong on Viewer { nope }\nquery UsesIt { viewer { ...Wrong } }",
        deep,
        "query Big { " + " ".join(f"a{i}: currentFiscalYear" for i in range(1000)) + " }",
    ]
    manifest = tmp_path / "trusted-documents.json"
    manifest.write_text(json.dumps({document_id(text): text for text in texts}), encoding="utf-8")

    checked = incentives("documents", "check", "--manifest", str(manifest), env=environment())

    assert checked.returncode == 1
    problems = checked.stderr
    assert f"{document_id(texts[0])}" not in problems
    assert f"{document_id(texts[1])} query Misspelled: Cannot query field 'objectID'" in problems
    assert "query Other" not in problems
    assert "fragment Wrong (in query UsesIt): Cannot query field 'nope'" in problems
    assert "query TooDeep: Operation 'TooDeep' is 14 deep; the limit is 12." in problems
    assert (
        f"{document_id(texts[4])} the document: Syntax Error: Document contains more than 2000 tokens"
        in problems
    )
    assert "4 of 5 trusted documents would be refused" in problems
    assert "  query Fine: cost 1" in checked.stdout


def test_extract_finds_codegens_output_or_says_how_to_make_it(tmp_path: Path) -> None:
    extracted = incentives(
        "documents",
        "extract",
        "--persisted-documents",
        str(tmp_path / "absent.json"),
        "--output",
        str(tmp_path / "manifest.json"),
        env=environment(),
    )

    assert extracted.returncode == 1
    assert (
        "absent.json is missing: run `cd clients && npx graphql-codegen --config codegen.ts`"
        in extracted.stderr
    )
    assert not (tmp_path / "manifest.json").exists()


def test_extract_refuses_a_persisted_document_whose_hash_is_not_its_texts(tmp_path: Path) -> None:
    persisted = tmp_path / "persisted-documents.json"
    persisted.write_text(json.dumps({"0" * 64: "query Q { currentFiscalYear }"}), encoding="utf-8")

    extracted = incentives(
        "documents",
        "extract",
        "--persisted-documents",
        str(persisted),
        "--output",
        str(tmp_path / "m.json"),
        env=environment(),
    )

    assert extracted.returncode == 1
    assert f"{'0' * 64} is not the sha256 of its document" in extracted.stderr


def test_codegen_then_extract_gives_the_committed_manifest(tmp_path: Path) -> None:
    output = tmp_path / "trusted-documents.json"
    with apart() as directory:
        generated = codegen_into(directory)
        assert generated.returncode == 0, generated.stdout + generated.stderr
        persisted = directory / "generated" / "ts" / "persisted-documents.json"
        hashes = json.loads(persisted.read_text(encoding="utf-8"))

        extracted = incentives(
            "documents", "extract", "--persisted-documents", str(persisted), "--output", str(output),
            env=environment(),
        )  # fmt: skip

    assert extracted.returncode == 0, extracted.stderr
    fresh, committed = load(output), load()
    assert missing(fresh, committed) == [], f"shipped operations missing from {MANIFEST.name}: {REFRESH}"
    assert sorted(fresh) == sorted(committed), f"{MANIFEST.name} keeps documents no app ships: {REFRESH}"
    # The TypeScript client sends `sha256:` + the preset's hash of each operation.
    assert {f"sha256:{key}" for key in hashes} <= set(committed)


def test_printed_is_graphql_js_print_for_every_shipped_document() -> None:
    npm_tool("graphql-codegen")  # graphql-js comes with the npm tools
    script = 'import {parse, print} from "graphql"; process.stdout.write(print(parse(process.argv[1])))'
    texts = [
        CONSOLE_OPERATIONS.read_text(encoding="utf-8"),
        *operation_documents(OPERATIONS.glob("*.graphql")),
    ]

    for text in texts:
        by_graphql_js = run("node", "--input-type=module", "-e", script, text)
        assert by_graphql_js.returncode == 0, by_graphql_js.stderr
        assert printed_id(text) == document_id(by_graphql_js.stdout), operation_names(text)[:3]
