"""The TypeScript client: graphql-codegen's client preset over schema.graphql and the kept
operations, then strict `tsc` over the generated documents and clients/ts/app.ts, which uses them;
and the console's scripts (plain JavaScript with JSDoc types) checked against the same types."""

from __future__ import annotations

import shutil

from api.console import STATIC as CONSOLE
from tests.clients.paths import CLIENTS
from tests.clients.tools import npm_tool, run

GENERATED = CLIENTS / "generated" / "ts"
# A copy of app.ts with one misspelled field, checked beside the real one: tsc must refuse it.
MISSPELLED = CLIENTS / "generated" / "misspelled"
MISSPELLED_CONSOLE = CLIENTS / "generated" / "misspelled-console"


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

    # The console (api/static/console/*.js): its field reads typed by its own operations.
    console_checked = run(tsc, "-p", "tsconfig.console.json")
    assert console_checked.returncode == 0, console_checked.stdout + console_checked.stderr
    modules = [path for path in CONSOLE.glob("*.js") if not path.name.endswith(".min.js")]
    (home,) = [path for path in modules if "enrollment.actionRequiredReason" in path.read_text("utf-8")]
    shutil.rmtree(MISSPELLED_CONSOLE, ignore_errors=True)
    MISSPELLED_CONSOLE.mkdir(parents=True)
    for module in modules:  # every module, its generated types found from the copy's folder
        text = module.read_text(encoding="utf-8").replace("../../../clients/generated/ts/", "../ts/")
        if module == home:
            text = text.replace("enrollment.actionRequiredReason", "enrollment.actionRequiredReasons")
        (MISSPELLED_CONSOLE / module.name).write_text(text, encoding="utf-8")
    (MISSPELLED_CONSOLE / "tsconfig.json").write_text(
        '{"extends": "../../tsconfig.console.json", "include": ["*.js", "../ts/**/*.ts"]}', encoding="utf-8"
    )
    console_refused = run(tsc, "-p", MISSPELLED_CONSOLE / "tsconfig.json")
    assert console_refused.returncode != 0
    assert "Property 'actionRequiredReasons' does not exist" in console_refused.stdout, console_refused.stdout
