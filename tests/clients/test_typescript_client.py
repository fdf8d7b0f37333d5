"""The TypeScript client: graphql-codegen's client preset over schema.graphql and the kept
operations, then strict `tsc` over the generated documents and clients/ts/app.ts, which uses them."""

from __future__ import annotations

import shutil

from tests.clients.paths import CLIENTS
from tests.clients.tools import npm_tool, run

GENERATED = CLIENTS / "generated" / "ts"
# A copy of app.ts with one misspelled field, checked beside the real one: tsc must refuse it.
MISSPELLED = CLIENTS / "generated" / "misspelled"


def test_codegen_then_strict_tsc_accepts_the_app_and_refuses_a_misspelled_field() -> None:
    codegen, tsc = npm_tool("graphql-codegen"), npm_tool("tsc")
    shutil.rmtree(GENERATED, ignore_errors=True)

    generated = run(codegen, "--config", "codegen.ts", "--silent")
    assert generated.returncode == 0, generated.stdout + generated.stderr
    typed = (GENERATED / "graphql.ts").read_text(encoding="utf-8")
    assert "Date: { input: string; output: string; }" in typed
    assert "DateTime: { input: string; output: string; }" in typed
    assert "export const DashboardDocument" in typed

    checked = run(tsc, "-p", "tsconfig.json")
    assert checked.returncode == 0, checked.stdout + checked.stderr

    app = (CLIENTS / "ts" / "app.ts").read_text(encoding="utf-8")
    assert "location.partnerId" in app
    shutil.rmtree(MISSPELLED, ignore_errors=True)
    MISSPELLED.mkdir(parents=True)
    broken = app.replace("location.partnerId", "location.partnerID").replace("../generated/ts/", "../ts/")
    (MISSPELLED / "app.ts").write_text(broken, encoding="utf-8")
    (MISSPELLED / "tsconfig.json").write_text(
        '{"extends": "../../tsconfig.json", "include": ["app.ts", "../ts/**/*.ts"]}', encoding="utf-8"
    )
    refused = run(tsc, "-p", MISSPELLED / "tsconfig.json")
    assert refused.returncode != 0
    assert "Property 'partnerID' does not exist" in refused.stdout, refused.stdout + refused.stderr
