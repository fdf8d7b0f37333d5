"""The TypeScript client: graphql-codegen's client preset over schema.graphql and the kept
operations, then strict `tsc` over the generated documents and clients/ts/app.ts, which uses them;
the console's scripts (plain JavaScript with JSDoc types) checked against the same types; and
app.ts compiled and run by node against the API enforcing trusted documents, as a partner."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from api.console import STATIC as CONSOLE
from api.trusted.manifest import load
from domain.model import Location
from tests.api.world import ApiWorld
from tests.clients.paths import CLIENTS
from tests.clients.tools import apart, codegen_into, npm_tool, run
from tests.support.databases import run_async
from tests.support.server import ApiServer

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


# Runs app.ts's dashboard and home page as a partner, recording each request's body (CommonJS: the
# compiled files sit outside clients/, whose package.json makes .js files ES modules).
DRIVER = """
const app = require("./ts/app.js");
const sent = [];
const send = globalThis.fetch;
globalThis.fetch = (url, init) => (sent.push(JSON.parse(init.body)), send(url, init));
const api = { endpoint: process.env.INCENTIVES_API_URL, token: process.env.INCENTIVES_TOKEN };
(async () => {
  const rows = await app.dashboardRows(api);
  const home = await app.homeNotices(api);
  process.stdout.write(JSON.stringify({ rows, home, sent }));
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
"""


@pytest.fixture
def api_server_with_graph(enforcing_server: ApiServer) -> ApiServer:
    """The API here enforces trusted documents for partner callers."""
    return enforcing_server


def test_the_app_compiled_and_run_by_node_reads_by_document_id_under_enforce(
    api_server_with_graph: ApiServer, world: ApiWorld, tmp_path: Path
) -> None:
    with apart() as directory:  # app.ts beside its own generated documents
        generated = codegen_into(directory)
        assert generated.returncode == 0, generated.stdout + generated.stderr
        (directory / "ts").mkdir()
        shutil.copy(CLIENTS / "ts" / "app.ts", directory / "ts" / "app.ts")
        config = {"extends": "../../tsconfig.json", "include": ["ts/*.ts", "generated/ts/*.ts"]}
        (directory / "tsconfig.json").write_text(json.dumps(config), encoding="utf-8")
        compiled = run(
            npm_tool("tsc"), "-p", directory / "tsconfig.json", "--noEmit", "false", "--outDir", tmp_path,
            "--module", "commonjs", "--moduleResolution", "node10",
        )  # fmt: skip
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    (tmp_path / "driver.cjs").write_text(DRIVER, encoding="utf-8")
    invited = world.invited()
    partner = invited.partner
    world.location(partner)  # no enrollment: no row
    world.validating(invited, "2099-12-31")
    stored = run_async(lambda: world.builder.rows(Location, Location.organization_id == partner.org.id))
    first = min(stored, key=lambda row: row.id)
    env = {
        **os.environ,
        "INCENTIVES_API_URL": f"{api_server_with_graph.url}/graphql",
        "INCENTIVES_TOKEN": partner.admin.token,
    }

    ran = run("node", "driver.cjs", cwd=tmp_path, env=env)

    assert ran.returncode == 0, ran.stdout + ran.stderr
    answer = json.loads(ran.stdout)
    assert len(stored) == 2
    assert [(row["partnerId"], row["location"], row["status"]) for row in answer["rows"]] == [
        (first.partner_id, first.name, "ENROLLING")
    ]
    assert answer["home"]["greeting"].startswith("Welcome, ")
    trusted = load()
    assert [set(body) for body in answer["sent"]] == [{"documentId", "variables"}] * 2
    assert all(body["documentId"] in trusted for body in answer["sent"])
