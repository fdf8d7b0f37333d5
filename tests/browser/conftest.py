"""A real Chromium (Debian's package, driven by Playwright; never a downloaded browser) against the
real `incentives demo`, with every request that would leave the machine refused."""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import Running, environment, running
from tests.support.ports import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOOPBACK = re.compile(r"^(https?|wss?)://(127\.0\.0\.1|localhost)(:\d+)?/")
PAGES = Path(__file__).resolve().parent / "pages"
AXE = Path(__file__).resolve().parents[2] / "clients" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = os.environ.get("INCENTIVES_SCREENSHOTS")


@dataclass
class Offline:
    """Requests the page tried to make beyond loopback (each refused)."""

    refused: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"no browser: {CHROMIUM} is missing (Debian's chromium package; .ci/run installs it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is missing (requirements.lock pins it; ./run installs it)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def offline_page(browser: Any, offline: Offline) -> Any:
    """A new page whose requests beyond loopback are refused and recorded."""
    page = browser.new_page(viewport={"width": 1400, "height": 800})
    page.set_default_timeout(20_000)
    page.route("**/*", only_loopback(offline))
    return page


def only_loopback(offline: Offline) -> Callable[[Any], None]:
    """A route handler (a page's or a browser context's) letting loopback requests through and
    refusing, and recording in `offline`, any other."""

    def handle(route: Any) -> None:
        if LOOPBACK.match(route.request.url):
            route.continue_()
        else:
            offline.refused.append(route.request.url)
            route.abort()

    return handle


@dataclass(frozen=True)
class Demo:
    url: str
    tokens: dict[str, str]
    spa_origin: str  # allowed by INCENTIVES_CORS_ALLOWED_ORIGINS
    process: Running


@pytest.fixture(scope="module")
def spa_server() -> Iterator[str]:
    """tests/browser/pages served on a loopback port of its own: another origin than the API's."""
    yield from static_server()


@pytest.fixture(scope="module")
def stranger_server() -> Iterator[str]:
    """The same pages on an origin the API does not allow."""
    yield from static_server()


def static_server(directory: Path = PAGES) -> Generator[str, None, None]:
    """Serve `directory` on a loopback port of its own (a generator: its first item is the URL)."""
    handler = partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def demo(browser: Any, spa_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """`incentives demo` as a user starts it, also allowing the SPA's origin."""
    yield from start_demo(tmp_path_factory.mktemp("demo"), spa_server)


def start_demo(directory: Path, spa_server: str, **settings: str) -> Generator[Demo, None, None]:
    """`incentives demo` in `directory` with these settings too (a generator: its one item is the
    running demo, stopped when the generator is closed)."""
    port = free_port()
    env = environment(INCENTIVES_CORS_ALLOWED_ORIGINS=spa_server, **settings)
    with running("demo", "--port", str(port), env=env, log=directory / "demo.log", cwd=directory) as process:
        process.wait_for(lambda: "Press Ctrl+C to stop." in process.output(), "the demo's tokens")
        saved = json.loads((directory / "demo-data" / "tokens.json").read_text(encoding="utf-8"))
        yield Demo(f"http://127.0.0.1:{port}", saved["tokens"], spa_server, process)


class Console:
    """One person's signed-in console page, and the GraphQL requests it sent (`sent`)."""

    def __init__(self, page: Any, demo: Demo, offline: Offline, sent: list[dict[str, Any]]) -> None:
        self.page = page
        self.demo = demo
        self.offline = offline
        self.sent = sent

    def open(self, name: str) -> None:
        self.page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()
        self.page.wait_for_selector("main h1")
        self.page.wait_for_load_state("networkidle")

    def main_text(self) -> str:
        text: str = self.page.inner_text("main")
        return text

    def screenshot(self, name: str, *, around: str | None = None) -> None:
        """The whole page, or the window scrolled to the element `around` selects."""
        if SCREENSHOTS:
            Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
            path = str(Path(SCREENSHOTS) / f"{name}.png")
            if around is None:
                self.page.screenshot(path=path, full_page=True)
            else:
                self.page.locator(around).evaluate("element => element.scrollIntoView()")
                self.page.screenshot(path=path)

    def accessibility_violations(self) -> list[str]:
        """What axe-core finds wrong on the page as it is (WCAG 2.1 A and AA rules)."""
        if not AXE.exists():
            pytest.skip(f"axe-core is missing ({AXE}); .ci/run installs it with `npm ci` in clients/")
        self.page.evaluate(AXE.read_text(encoding="utf-8"))  # the page's CSP does not cover this
        found = self.page.evaluate(
            "axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] })"
            ".then(r => r.violations.map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', ')))"
        )
        return list(found)


def graphql_requests(context: Any, page: Any, demo: Demo) -> list[dict[str, Any]]:
    """What the page sends to the API's /graphql: each POST's JSON body and each websocket
    `subscribe` message's payload, as they are sent."""
    sent: list[dict[str, Any]] = []
    endpoint = f"{demo.url}/graphql"

    def posted(request: Any) -> None:
        if request.url.startswith(endpoint) and request.method == "POST":
            sent.append(request.post_data_json)

    def subscribed(frame: str | bytes) -> None:
        message = json.loads(frame)
        if message.get("type") == "subscribe":
            sent.append(message["payload"])

    context.on("request", posted)
    page.on("websocket", lambda socket: socket.on("framesent", subscribed))
    return sent


@pytest.fixture
def sign_in(browser: Any, demo: Demo) -> Iterator[Any]:
    """`sign_in("Maja Berg", locale="fr-FR")`: a new browser session of that sample user, started
    at the console's home or at `at` (a link into it). When the test ends, each session has sent
    only trusted document ids, never a document's text."""
    contexts: list[tuple[Any, Offline, list[dict[str, Any]]]] = []

    def signed_in(person: str, *, locale: str = "en-US", at: str | None = None) -> Console:
        context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
        offline = Offline()
        context.route("**/*", only_loopback(offline))
        page = context.new_page()
        sent = graphql_requests(context, page, demo)
        contexts.append((context, offline, sent))
        page.set_default_timeout(20_000)
        page.goto(at or f"{demo.url}/console/")
        page.wait_for_url("**/oauth2/v2.0/authorize**")  # MSAL.js sent the browser to sign in
        picker = page.get_by_label("Sign in as")
        choice = next(text for text in picker.locator("option").all_text_contents() if person in text)
        picker.select_option(label=choice)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_selector("body[data-ready]", state="attached")
        assert page.get_attribute("body", "data-ready") == "true", page.inner_text("main")
        return Console(page, demo, offline, sent)

    yield signed_in
    for context, offline, sent in contexts:
        context.close()
        assert offline.refused == []  # nothing left the machine
        assert sent, "the console called the API"
        assert [payload for payload in sent if "query" in payload or "documentId" not in payload] == []
