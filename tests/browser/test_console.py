"""The PR console in a real Chromium: an editor drafts, another approver approves, agents see it at once."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import shot, sign_in
from tests.conftest import PASSWORD


def _sign_out(page) -> None:
    page.click(".signout button")
    page.wait_for_load_state("networkidle")


def test_draft_submit_approve_reaches_agents(browser, live_server) -> None:
    ctx = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 1000})
    page = ctx.new_page()
    sign_in(page, live_server, "editor", PASSWORD)
    page.goto(f"{live_server}/admin/entries/new")
    page.select_option("#lang", "en")
    page.select_option("#category", "billing")
    page.fill("#question", "Can I pay my bill with PayPal?")
    page.fill("#alternates", "paypal payment\npay with paypal")
    page.fill("#answer", "Not yet: you can pay by card or direct debit in the app under Billing.")
    page.fill("#variant_x", "Not yet — card or direct debit in the app (Billing).")
    expect(page.locator("[data-count-for=variant_x]")).to_have_text("52 / 280")
    shot(page, "console-editor-en")
    page.click("main form button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("Draft saved")
    page.click("form[action$='/submit'] button")
    expect(page.locator(".badge.in_review").first).to_be_visible()
    _sign_out(page)

    sign_in(page, live_server, "approver", PASSWORD)
    page.goto(f"{live_server}/admin/review")
    card = page.locator("section.card", has_text="Can I pay my bill with PayPal?")
    shot(page, "console-review-en")
    card.locator("button", has_text="Approve").click()
    expect(page.locator(".flash")).to_contain_text("Version 1 approved")
    _sign_out(page)

    sign_in(page, live_server, "agent", PASSWORD)
    page.fill("#question", "do you take paypal?")
    page.press("#question", "Enter")
    expect(page.locator(".suggestion .entry-question").first).to_have_text("Can I pay my bill with PayPal?")
    expect(page.locator(".suggestion .approved").first).to_contain_text("Approver, version 1")
    ctx.close()


def test_console_in_hebrew_mirrors_the_layout(browser, live_server) -> None:
    ctx = browser.new_context(locale="he-IL", viewport={"width": 1280, "height": 1000})
    page = ctx.new_page()
    sign_in(page, live_server, "editor", PASSWORD)
    page.goto(f"{live_server}/admin/entries")
    if page.evaluate("document.documentElement.lang") != "he":
        page.click(".language button")
    expect(page.locator("h1")).to_have_text("מאגר התשובות")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    nav_x = page.locator(".topbar nav").bounding_box()["x"]
    brand_x = page.locator(".topbar .brand").bounding_box()["x"]
    assert brand_x > nav_x  # the brand sits on the right in a right-to-left layout
    shot(page, "console-entries-he")
    page.goto(f"{live_server}/admin/entries/new")
    page.select_option("#lang", "he")
    page.fill("#question", "אפשר לשלם בפייפאל?")
    page.fill("#answer", "עדיין לא: אפשר לשלם בכרטיס אשראי או בהוראת קבע באפליקציה.")
    assert page.locator("#question").evaluate("el => getComputedStyle(el).direction") == "rtl"
    shot(page, "console-editor-he")
    ctx.close()
