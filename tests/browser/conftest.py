"""Real-browser fixtures: the app served on loopback from a thread, and Debian's Chromium through Playwright."""
from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from kb import demo, storage

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session", autouse=True)
def _browser_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    # Chromium writes crash reports and caches under HOME.
    home = tmp_path_factory.mktemp("home")
    old = os.environ.get("HOME")
    os.environ["HOME"] = str(home)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield
    if old is not None:
        os.environ["HOME"] = old


@pytest.fixture
def demo_app(app):
    """The test app with the demo knowledge base loaded."""
    with storage.database(app).session() as s:
        demo.load(session=s)
    return app


@pytest.fixture
def live_server(demo_app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, demo_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def playwright_instance():
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make test` installs it (apt-get install chromium fonts-dejavu-core)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance):
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                  args=["--disable-quic"])
    yield browser
    browser.close()


@pytest.fixture
def context(browser, live_server):
    ctx = browser.new_context(locale="he-IL", viewport={"width": 1280, "height": 900})
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    yield ctx
    ctx.close()


def sign_in(page, base: str, username: str, password: str) -> None:
    """Sign in through the login form."""
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("main button[type=submit]")
    page.wait_for_load_state("networkidle")


def shot(page, name: str) -> Path:
    """Keep a screenshot as a test artifact."""
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
