"""A real Chromium (Debian's package, driven by Playwright; never a downloaded browser) against the
real `incentives demo`, with every request that would leave the machine refused."""

from __future__ import annotations

import json
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

from tests.e2e.harness import Running, environment, free_port, running

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
    directory = tmp_path_factory.mktemp("demo")
    port = free_port()
    env = environment(INCENTIVES_CORS_ALLOWED_ORIGINS=spa_server)
    with running("demo", "--port", str(port), env=env, log=directory / "demo.log", cwd=directory) as process:
        process.wait_for(lambda: "Press Ctrl+C to stop." in process.output(), "the demo's tokens")
        saved = json.loads((directory / "demo-data" / "tokens.json").read_text(encoding="utf-8"))
        yield Demo(f"http://127.0.0.1:{port}", saved["tokens"], spa_server, process)
