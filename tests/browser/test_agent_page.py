"""An agent, in a real Chromium, from pasted message to copied vetted reply, in Hebrew and English."""
from __future__ import annotations

import re
import time

from playwright.sync_api import expect
from sqlalchemy import select

from kb import storage
from kb.models import Inquiry
from tests.browser.conftest import shot, sign_in
from tests.conftest import PASSWORD


def _in_english(page) -> None:
    """Switch the page from the browser's Hebrew to English with the top bar's language button."""
    page.click("form.language button")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.lang") == "en"


def test_hebrew_question_to_copied_answer(context, live_server, demo_app) -> None:
    page = context.new_page()
    sign_in(page, live_server, "agent", PASSWORD)
    page.fill("#question", "הראוטר לא עובד, איך עושים לו ריסטרט?")
    page.press("#question", "Enter")
    first = page.locator(".suggestion").first
    expect(first).to_be_visible()
    expect(first.locator(".entry-question")).to_have_text("איך מאתחלים את הראוטר?")
    direction = first.locator(".answer").evaluate("el => getComputedStyle(el).direction")
    assert direction == "rtl"
    expect(first.locator(".confidence")).to_have_class(re.compile(r"confidence (high|medium)"))
    shot(page, "agent-hebrew-answer")
    page.keyboard.press("Escape")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("c")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("נתקו את כבל החשמל של הראוטר")
    # Copying is the agency's reply on the page: it counts as used without another click.
    deadline = time.monotonic() + 5
    while True:
        with storage.database(demo_app).session() as s:
            feedback, replied = s.execute(select(Inquiry.feedback, Inquiry.replied_at)
                                          .order_by(Inquiry.id.desc()).limit(1)).one()
        if feedback == "copied" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert feedback == "copied" and replied is not None
    first.locator("button[data-action=used]").click()
    expect(first.locator(".feedback-state")).to_have_text("תודה, נרשם: השתמשתי")  # the page's words in Hebrew
    with storage.database(demo_app).session() as s:
        assert s.scalar(select(Inquiry.feedback).order_by(Inquiry.id.desc())) == "used"


def test_english_placeholder_must_be_filled_before_copying(context, live_server) -> None:
    page = context.new_page()
    sign_in(page, live_server, "agent", PASSWORD)
    _in_english(page)
    page.fill("#signature", "— Dana, Galim")
    page.fill("#question", "I need a technician to come fix my line")
    page.click("#ask-button")
    card = page.locator(".suggestion").first
    expect(card.locator(".entry-question")).to_have_text("How do I book a technician visit?")
    copy = card.locator("button.copy")
    expect(copy).to_be_disabled()
    card.locator(".placeholders input[name=visit_fee]").fill("99 NIS")
    expect(copy).to_be_enabled()
    expect(card.locator(".answer")).to_contain_text("a visit for equipment inside the home is 99 NIS.")
    copy.click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.endswith("is 99 NIS.\n— Dana, Galim")
    shot(page, "agent-english-placeholder")


def test_x_channel_shows_the_short_variant_and_its_count(context, live_server) -> None:
    page = context.new_page()
    sign_in(page, live_server, "agent", PASSWORD)
    _in_english(page)
    page.select_option("#channel", "x")
    page.fill("#question", "how do I change my wifi password")
    page.press("#question", "Enter")
    card = page.locator(".suggestion").first
    expect(card.locator(".answer")).to_have_text("App > Equipment > Wi-Fi: set a new name and password, then "
                                                 "reconnect your devices.")
    expect(card.locator(".length")).to_contain_text("/ 280 characters on X")


def test_red_flag_shows_the_banner_and_no_answers(context, live_server) -> None:
    page = context.new_page()
    sign_in(page, live_server, "agent", PASSWORD)
    page.fill("#question", "אני מעביר את זה לעורך הדין שלי ואתבע אתכם")
    page.press("#question", "Enter")
    banner = page.locator(".escalation")
    expect(banner).to_be_visible()
    expect(banner.locator("h2")).to_have_text("דגל אדום: לא עונים מהמאגר")
    expect(banner.locator(".holding")).to_contain_text("תודה על פנייתך")
    assert page.locator(".suggestion").count() == 0
    shot(page, "agent-escalation")


def test_no_match_offers_send_to_pr(context, live_server, demo_app) -> None:
    page = context.new_page()
    sign_in(page, live_server, "agent", PASSWORD)
    _in_english(page)
    page.fill("#question", "Quelle est la capitale de la Mongolie ?")
    page.press("#question", "Enter")
    box = page.locator(".no-match")
    expect(box).to_contain_text("No approved answer")
    expect(box).to_contain_text("Dana Levi")
    box.locator("button").click()
    expect(box.locator(".feedback-state")).to_have_text("Sent to PR's queue.")
    with storage.database(demo_app).session() as s:
        assert s.scalar(select(Inquiry.sent_to_pr).order_by(Inquiry.id.desc())) is True
    shot(page, "agent-no-match")
