"""Browser tests: the app under uvicorn on a free loopback port, Debian's chromium via Playwright.

Playwright's own browser download is never used (it cannot work on this network): the launch
names Debian's /usr/bin/chromium through executable_path. axe-core is a vendored file.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from app.main import create_app
from tests.conftest import fresh_database, make_settings, migrate
from tests.fakes.ytj import YtjFake

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",  # runs as root in CI
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",  # the closed network refuses Chromium's own connections
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


LIVE_DATABASE_URL = ""  # the live server's database, for tests that prepare data in it


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def live_server(
    tmp_path_factory: pytest.TempPathFactory, idp: str, ytj_fake: YtjFake
) -> Iterator[str]:
    """The real app, on its own migrated database, served by uvicorn on loopback, with the test
    identity provider and the trade-register fake."""
    with fresh_database(tmp_path_factory.mktemp("browser-db"), "browser") as url:
        migrate(url)
        global LIVE_DATABASE_URL
        LIVE_DATABASE_URL = url
        app = create_app(
            make_settings(
                url, employer_oidc_issuer=idp, staff_oidc_issuer=idp, ytj_base_url=ytj_fake.base_url
            )
        )
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on"
            )
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            app.state.engine.dispose()


# Package scope: Playwright's sync API keeps an event loop running in this thread while it is
# open, and later tests (the e-mail outbox's) start their own with asyncio.run().
@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).exists():
        pytest.fail(
            "Debian's chromium is not installed: `make test` installs it (apt-get install chromium)"
        )
    browser = playwright.chromium.launch(
        executable_path=executable, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


class PageWatch:
    """What a page did that it must not: requests off the machine, console errors (CSP reports)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.foreign_requests: list[str] = []
        self.console_errors: list[str] = []

    def on_request(self, request: Any) -> None:
        # Only what our own pages load counts: navigating to the identity provider is a link,
        # and the provider's own login page is not ours.
        if request.is_navigation_request() or not request.frame.url.startswith(self.base_url):
            return
        url = request.url
        if not url.startswith((self.base_url, "data:")):
            self.foreign_requests.append(url)

    def on_console(self, message: Any) -> None:
        if message.type == "error" and "404" not in message.text:
            self.console_errors.append(message.text)


@pytest.fixture
def new_page(browser: Browser, live_server: str) -> Iterator[Callable[..., tuple[Page, PageWatch]]]:
    contexts: list[BrowserContext] = []

    def make(
        *, locale: str = "fi-FI", width: int = 1280, height: int = 900
    ) -> tuple[Page, PageWatch]:
        context = browser.new_context(
            base_url=live_server, locale=locale, viewport={"width": width, "height": height}
        )
        # axe-core is injected by the test harness, not the page: the page's CSP stays as it is.
        context.add_init_script(path=str(AXE))
        # A closed network: anything off loopback is refused at once instead of timing out.
        context.route(
            lambda url: not url.startswith(("http://127.0.0.1", "data:")),
            lambda route: route.abort(),
        )
        contexts.append(context)
        page = context.new_page()
        watch = PageWatch(live_server)
        page.on("request", watch.on_request)
        page.on("console", watch.on_console)
        return page, watch

    yield make
    for context in contexts:
        context.close()


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """WCAG 2.1 A and AA violations on the current page, as axe-core reports them."""
    result: list[dict[str, Any]] = page.evaluate(
        """async () => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                           nodes: v.nodes.map(n => n.target.join(' '))}));
        }"""
    )
    return result
