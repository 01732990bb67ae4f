"""The browser extension in a real Chromium: installed from the console download, configured with a key, used
on a page in two steps (select, then the context-menu entry), in Hebrew and English."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from kb import accounts, storage
from suggest.agent import extension
from tests.browser.conftest import CHROMIUM, shot
from tests.conftest import PASSWORD, csrf_from

TWEET = """<!doctype html><html><head><meta charset="utf-8"><title>Galim on X</title></head>
<body><article><p id="en">hi @galim my router died, how do I restart it?</p>
<p id="he" dir="rtl">הראוטר לא עובד, איך מאתחלים אותו?</p>
<p id="legal">I am done, my lawyer will sue you tomorrow</p></article></body></html>"""


@pytest.fixture
def unpacked(demo_app, live_server, tmp_path: Path) -> Path:
    """Download the extension the way an agent does and unzip it."""
    client = demo_app.test_client()
    page = client.get("/login", base_url=live_server)
    client.post("/login", base_url=live_server,
                data={"username": "agent", "password": PASSWORD, "csrf_token": csrf_from(page.text)})
    response = client.get("/extension.zip", base_url=live_server)
    assert response.status_code == 200 and response.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.data)) as zf:
        zf.extractall(tmp_path)
    folder = tmp_path / "vetted-extension"
    # The build copies the site's one card module in; the browser loads that copy, not static/extension.
    assert (folder / "suggestions.js").read_bytes() == (extension.STATIC / "js" / "suggestions.js").read_bytes()
    assert not (extension.SOURCE / "suggestions.js").exists()
    return folder


@pytest.fixture
def api_key(demo_app) -> tuple[int, str]:
    with storage.database(demo_app).session() as s:
        key, raw = accounts.create_api_key(session=s, user=accounts.get_by_username(session=s, username="agent"),
                                           scopes=["suggest", "feedback"])
        return key.id, raw


@pytest.fixture
def ext(playwright_instance, unpacked, tmp_path_factory):
    profile = tmp_path_factory.mktemp("profile")
    ctx = playwright_instance.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=True,
        args=[f"--disable-extensions-except={unpacked}", f"--load-extension={unpacked}", "--disable-quic"],
    )
    worker = ctx.service_workers[0] if ctx.service_workers else ctx.wait_for_event("serviceworker", timeout=15000)
    ext_id = worker.url.split("/")[2]
    ctx.route("https://x.com/**", lambda route: route.fulfill(status=200, content_type="text/html", body=TWEET))
    yield ctx, worker, ext_id
    ctx.close()


def _configure(ctx, ext_id: str, key: str, lang: str, live_server: str):
    page = ctx.new_page()
    page.goto(f"chrome-extension://{ext_id}/options.html")
    expect(page.locator("#server")).to_have_value(live_server)  # prefilled by the download
    page.fill("#api-key", key)
    page.select_option("#lang", lang)
    page.click("button[type=submit]")
    page.click("#test")
    return page


def _select_and_ask(ctx, worker, element: str):
    """Select a message on the page, then run the context-menu entry as a right-click would."""
    tab = ctx.new_page()
    tab.goto("https://x.com/galim/status/1")
    selected = tab.evaluate(f"""() => {{
        const range = document.createRange();
        range.selectNodeContents(document.getElementById({element!r}));
        const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
        return String(sel);
    }}""")
    with ctx.expect_page() as opened:
        worker.evaluate("""([text, url]) => chrome.contextMenus.onClicked.dispatch(
            {menuItemId: "vetted-suggest", selectionText: text, pageUrl: url}, {id: 1, url})""",
                        [selected, tab.url])
    popup = opened.value
    popup.wait_for_load_state()
    return popup


def test_install_configure_and_answer_in_two_steps(ext, demo_app, live_server, api_key) -> None:
    ctx, worker, ext_id = ext
    assert ext_id == extension.extension_id(demo_app.instance_path)  # the id the server allows for CORS
    options = _configure(ctx, ext_id, api_key[1], "en", live_server)
    expect(options.locator("#status")).to_have_text("Connected as agent (feedback, suggest).")
    shot(options, "extension-options")
    ctx.grant_permissions(["clipboard-read", "clipboard-write"])

    popup = _select_and_ask(ctx, worker, "en")
    card = popup.locator(".suggestion").first
    expect(card.locator(".entry-question")).to_have_text("How do I restart my router?")
    expect(popup.locator("#channel")).to_have_value("x")  # chosen from the site
    expect(card.locator(".answer")).to_have_text("Unplug the router, wait 30 seconds, plug it back in. Lights "
                                                 "settle in ~2 minutes. Still red? DM us and we'll check the line.")
    expect(card.locator(".length")).to_contain_text("/ 280 characters on X")
    card.locator("button.copy").click()
    assert popup.evaluate("navigator.clipboard.readText()").startswith("Unplug the router, wait 30 seconds")
    card.locator("button.feedback").first.click()
    expect(card.locator(".feedback-state")).to_have_text("Thanks, recorded: Used")
    shot(popup, "extension-english")


def test_hebrew_interface_and_answer(ext, live_server, api_key) -> None:
    ctx, worker, ext_id = ext
    options = _configure(ctx, ext_id, api_key[1], "he", live_server)
    expect(options.locator("#status")).to_contain_text("מחובר בתור agent")
    assert options.evaluate("document.documentElement.dir") == "rtl"
    popup = _select_and_ask(ctx, worker, "he")
    card = popup.locator(".suggestion").first
    expect(card.locator(".entry-question")).to_have_text("איך מאתחלים את הראוטר?")
    assert popup.evaluate("document.documentElement.dir") == "rtl"
    assert card.locator(".answer").evaluate("el => getComputedStyle(el).direction") == "rtl"
    expect(popup.locator("button.feedback").first).to_have_text("השתמשתי")
    shot(popup, "extension-hebrew")


def test_escalation_shows_the_banner_and_no_answers(ext, live_server, api_key) -> None:
    ctx, worker, ext_id = ext
    _configure(ctx, ext_id, api_key[1], "en", live_server)
    popup = _select_and_ask(ctx, worker, "legal")
    banner = popup.locator(".escalation")
    expect(banner).to_contain_text("Red flag: do not answer from the library")
    expect(banner.locator(".holding")).to_contain_text("We take it seriously")
    assert popup.locator(".suggestion").count() == 0
    shot(popup, "extension-escalation")


def test_errors_are_explained_in_words(ext, demo_app, live_server, api_key) -> None:
    ctx, worker, ext_id = ext
    options = _configure(ctx, ext_id, api_key[1], "en", live_server)
    expect(options.locator("#status")).to_contain_text("Connected")
    with storage.database(demo_app).session() as s:
        accounts.revoke_api_key(session=s, key_id=api_key[0])
    options.click("#test")
    expect(options.locator("#status")).to_have_text(
        "The API key was refused: it is wrong or has been revoked. Ask an admin for a new one.")
    options.fill("#server", "http://127.0.0.1:9")
    options.click("#test")
    expect(options.locator("#status")).to_contain_text("cannot be reached")


def test_the_manifest_asks_for_little(unpacked: Path) -> None:
    import json

    manifest = json.loads((unpacked / "manifest.json").read_text())
    assert manifest["manifest_version"] == 3
    assert sorted(manifest["permissions"]) == ["activeTab", "contextMenus", "storage"]
    assert "host_permissions" not in manifest
    assert manifest["content_security_policy"]["extension_pages"] == "script-src 'self'; object-src 'none'"
    for js in unpacked.glob("*.js"):
        text = js.read_text()
        assert "innerHTML" not in text and "eval(" not in text, js.name
