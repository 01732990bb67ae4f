"""Every page, in Hebrew and in English, in a real Chromium: no word of the other script outside the customer's
own text (marked translate="no"), no chart label on top of another, and no WCAG 2.1 A/AA violation (axe-core).
A screenshot of each page is kept under tests/artifacts/."""
from __future__ import annotations

import shutil
import subprocess
import tarfile

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from kb import accounts, crises, phrasings, storage
from kb import service as kb_service
from kb.models import Entry
from kb.service import Draft
from tests.browser.conftest import shot, sign_in
from tests.browser.test_extension import api_key, ext, unpacked  # noqa: F401 - fixtures
from tests.conftest import PASSWORD

# Words allowed in Latin letters on a Hebrew page: the brand, codes and names of keys.
ALLOWED_LATIN = {"Vetted", "API", "X", "UTC", "CSV", "JSON", "JSONL", "UTF", "MB", "Webhook", "Enter", "Shift",
                 "Esc", "Escape", "Ctrl", "C", "Y"}

# Collects the text a reader sees or hears (text nodes, labels, placeholders, titles), leaving out what is marked as
# the customer's or the knowledge base's own text (translate="no"), code and key names.
COLLECT = """() => {
  const skip = (el) => el.closest('[translate="no"], code, kbd, script, style');
  const out = [document.title];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!skip(n.parentElement)) out.push(n.nodeValue);
  }
  for (const el of document.querySelectorAll('[placeholder], [title], [aria-label], img[alt]')) {
    if (skip(el)) continue;
    for (const a of ['placeholder', 'title', 'aria-label', 'alt']) if (el.getAttribute(a)) out.push(el.getAttribute(a));
  }
  return out.join(' \\n ');
}"""

OVERLAPS = """() => {
  const found = [];
  for (const svg of document.querySelectorAll('svg.chart')) {
    const items = [...svg.querySelectorAll('text, rect.legend-key')].map((el) => [el, el.getBoundingClientRect()]);
    for (let i = 0; i < items.length; i++) for (let j = i + 1; j < items.length; j++) {
      const [a, ra] = items[i], [b, rb] = items[j];
      const w = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
      const h = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
      if (w > 0.5 && h > 0.5) found.push([a.textContent || 'key', b.textContent || 'key']);
    }
  }
  return found;
}"""


def foreign_words(text: str, lang: str) -> list[str]:
    """Return the words of `text` in the other language's script (Latin on a Hebrew page, Hebrew on an English one)."""
    import re

    text = re.sub(r"\S+@\S+|https?://\S+|chrome://\S+", " ", text)
    if lang == "he":
        allowed = {w.casefold() for w in ALLOWED_LATIN}
        return [w for w in re.findall(r"[A-Za-z][A-Za-z'’]*", text) if w.casefold() not in allowed]
    return re.findall(r"[\u0590-\u05FF]+", text)


@pytest.fixture(scope="session")
def axe_source(tmp_path_factory: pytest.TempPathFactory) -> str:
    """axe-core from the npm registry, unpacked for this run only (never committed)."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is missing: it fetches axe-core for the accessibility check")
    folder = tmp_path_factory.mktemp("axe")
    done = subprocess.run([npm, "pack", "axe-core@4.14", "--silent"], cwd=folder, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stderr
    tarball = folder / done.stdout.strip().splitlines()[-1]
    with tarfile.open(tarball) as tf:
        member = tf.getmember("package/axe.min.js")
        return tf.extractfile(member).read().decode()


def axe_violations(page, source: str) -> list[str]:
    """Run axe-core's WCAG 2.1 A/AA rules on the page; return the violations in one line each."""
    if source:
        page.add_script_tag(content=source)
    result = page.evaluate("""async () => {
      const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
      return r.violations.map((v) => v.id + ': ' + v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | '));
    }""")
    return list(result)


@pytest.fixture
def seeded(demo_app):
    """Give every page something to show: an entry in review, a retired one, a crisis, an alert-worthy history."""
    with storage.database(demo_app).session() as s:
        editor = accounts.get_by_username(session=s, username="editor")
        approver = accounts.get_by_username(session=s, username="approver")
        version = kb_service.create_draft(session=s, actor=editor, draft=Draft(
            question="אפשר לשלם בביט?", answer="עדיין לא: אפשר לשלם בכרטיס או בהוראת קבע, בסך {amount}.",
            lang="he", placeholders=["amount"], category="billing"))
        kb_service.submit(session=s, actor=editor, version_id=version.id)
        retired_id = s.scalar(select(Entry.id).where(Entry.approved_version_id.is_not(None)).order_by(Entry.id.desc()))
        kb_service.retire(session=s, actor=approver, entry_id=retired_id, reason="המבצע הסתיים")
        crises.start(session=s, actor=approver, name="תקלה בצפון", holding_statement="אנחנו בודקים ונעדכן.",
                     category="outages")
        # A learned wording already matched, and one waiting for a decision.
        served = s.scalar(select(Entry.id).where(Entry.approved_version_id.is_not(None), Entry.lang == "he")
                          .order_by(Entry.id))
        matched = phrasings.propose(session=s, actor=editor, entry_id=served, text="הנתב מהבהב אדום מה עושים")
        phrasings.accept(session=s, actor=approver, phrasing_id=matched.id)
        phrasings.propose(session=s, actor=editor, entry_id=served, text="אין אינטרנט מהבוקר, מה לעשות?")
        return {"review_entry": version.entry_id, "retired_entry": retired_id}


PAGES = [
    ("search", "/search"), ("extension", "/extension"), ("entries", "/admin/entries"),
    ("new-entry", "/admin/entries/new"), ("entry", "/admin/entries/1"), ("edit", "/admin/entries/1/edit"),
    ("review", "/admin/review"), ("unanswered", "/admin/unanswered"), ("dashboard", "/admin/dashboard"),
    ("crisis", "/admin/crisis"), ("red-flags", "/admin/red-flags"), ("response-times", "/admin/response-times"),
    ("alerts", "/admin/alerts"), ("notifiers", "/admin/notifiers"), ("owners", "/admin/owners"),
    ("users", "/admin/users"), ("keys", "/admin/keys"), ("phrasings", "/admin/phrasings"),
    ("audit", "/admin/audit"), ("transfer", "/admin/transfer"), ("not-found", "/admin/nothing-here"),
]


def _check(page, name: str, lang: str, axe: str, problems: list[str]) -> None:
    assert page.evaluate("document.documentElement.lang") == lang, name
    words = foreign_words(page.evaluate(COLLECT), lang)
    if words:
        problems.append(f"{lang} {name}: words in the other script: {sorted(set(words))[:12]}")
    overlaps = page.evaluate(OVERLAPS)
    if overlaps:
        problems.append(f"{lang} {name}: chart labels overlap: {overlaps[:5]}")
    shot(page, f"page-{lang}-{name}")
    violations = axe_violations(page, axe)
    if violations:
        problems.append(f"{lang} {name}: axe: {violations}")


def _agent_states(page, base: str) -> list[tuple[str, str]]:
    """Yield the agent page in its three states: answer, no match, escalation."""
    states = [("agent-answer", "הראוטר לא עובד, איך עושים לו ריסטרט?"),
              ("agent-no-match", "Quelle est la capitale de la Mongolie ?"),
              ("agent-escalation", "אני מעביר את זה לעורך הדין שלי ואתבע אתכם")]
    return states


@pytest.mark.same_on_any_database  # the words are the templates' and the catalogue's
@pytest.mark.parametrize("lang", ["he", "en"])
def test_every_page_speaks_one_language(browser, live_server, seeded, axe_source, lang: str) -> None:
    ctx = browser.new_context(locale="he-IL" if lang == "he" else "en-US", viewport={"width": 1280, "height": 900},
                              bypass_csp=True)
    page = ctx.new_page()
    problems: list[str] = []
    page.goto(f"{live_server}/login")
    _check(page, "login", lang, axe_source, problems)
    sign_in(page, live_server, "admin", PASSWORD)
    for name, path in PAGES:
        path = path.replace("/entries/1", f"/entries/{seeded['review_entry']}")
        page.goto(f"{live_server}{path}")
        _check(page, name, lang, axe_source, problems)
    page.goto(f"{live_server}/admin/entries/{seeded['retired_entry']}")
    expect(page.locator("h1 .badge.retired")).to_be_visible()
    expect(page.locator("section.retired .provenance")).to_be_visible()
    _check(page, "entry-retired", lang, axe_source, problems)
    for name, question in _agent_states(page, live_server):
        page.goto(f"{live_server}/search")
        page.fill("#question", question)
        page.press("#question", "Enter")
        page.wait_for_selector(".suggestion, .escalation, .no-match")
        _check(page, name, lang, axe_source, problems)
    ctx.close()
    assert not problems, "\n".join(problems)


def test_top_bar_fits_a_narrow_screen(browser, live_server, seeded) -> None:
    ctx = browser.new_context(locale="he-IL", viewport={"width": 420, "height": 800})
    page = ctx.new_page()
    sign_in(page, live_server, "admin", PASSWORD)
    page.goto(f"{live_server}/admin/entries")
    assert page.evaluate("document.documentElement.scrollWidth") <= 420
    bar = page.locator(".topbar").bounding_box()
    assert bar["x"] >= 0 and bar["x"] + bar["width"] <= 421
    shot(page, "page-he-entries-420px")
    ctx.close()


def _hebrew_key(page, key: str, code: str) -> None:
    """Press a key as a Hebrew layout sends it: the Hebrew letter in `key`, the physical key in `code`."""
    page.evaluate("([key, code]) => (document.activeElement || document.body).dispatchEvent("
                  "new KeyboardEvent('keydown', {key, code, bubbles: true, cancelable: true}))", [key, code])


def test_hebrew_agent_from_paste_to_copied_answer_by_keyboard(context, live_server, demo_app) -> None:
    page = context.new_page()
    sign_in(page, live_server, "agent", PASSWORD)
    expect(page.locator("#keys-help")).to_contain_text("בפריסה עברית")  # the flow, in the user's language
    page.fill("#question", "הראוטר לא עובד, איך עושים לו ריסטרט?")
    page.keyboard.press("Enter")
    first = page.locator(".suggestion").first
    expect(first).to_be_focused()  # focus leaves the message box when the answers arrive
    count = page.locator(".suggestion").count()
    _hebrew_key(page, str(min(count, 2)), f"Digit{min(count, 2)}")
    expect(page.locator(".suggestion").nth(min(count, 2) - 1)).to_be_focused()
    # The digit did not type into the message box.
    assert page.input_value("#question") == "הראוטר לא עובד, איך עושים לו ריסטרט?"
    _hebrew_key(page, "1", "Digit1")
    expect(first).to_be_focused()
    _hebrew_key(page, "ב", "KeyC")  # the C key on a Hebrew layout
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("נתקו את כבל החשמל של הראוטר")
    _hebrew_key(page, "Escape", "Escape")
    expect(page.locator("#question")).to_be_focused()
    page.locator(".suggestion").first.focus()
    _hebrew_key(page, ".", "Slash")  # the / key on a Hebrew layout
    expect(page.locator("#question")).to_be_focused()
    shot(page, "agent-hebrew-keyboard")


def test_an_empty_placeholder_shows_as_a_gap_with_a_label(context, live_server, seeded) -> None:
    page = context.new_page()
    sign_in(page, live_server, "agent", PASSWORD)
    page.fill("#question", "I need a technician to come fix my line")
    page.keyboard.press("Enter")
    card = page.locator(".suggestion", has=page.locator(".placeholders input")).first
    expect(card).to_be_visible()
    expect(card.locator(".answer mark.missing").first).to_be_visible()
    label = card.locator(".placeholders label").first.inner_text()
    assert "יש למלא" in label and "_" not in label


@pytest.mark.parametrize("lang", ["he", "en"])
def test_extension_popup_and_options_speak_one_language(ext, unpacked, live_server, api_key,  # noqa: F811
                                                        axe_source, lang: str) -> None:
    from tests.browser.test_extension import _configure

    ctx, _worker, ext_id = ext
    (unpacked / "axe.min.js").write_text(axe_source, encoding="utf-8")  # served as the extension's own script
    problems: list[str] = []
    options = _configure(ctx, ext_id, api_key[1], lang, live_server)
    expect(options.locator("#status")).not_to_have_text("")
    _check_extension(options, "extension-options", lang, axe_source, problems)
    popup = ctx.new_page()
    popup.goto(f"chrome-extension://{ext_id}/popup.html")
    popup.fill("#question", "הראוטר לא עובד, איך עושים לו ריסטרט?")
    popup.click("button[type=submit]")
    popup.wait_for_selector(".suggestion, .escalation, .no-match")
    _check_extension(popup, "extension-popup", lang, axe_source, problems)
    assert not problems, "\n".join(problems)


def _check_extension(page, name: str, lang: str, axe: str, problems: list[str]) -> None:
    """The page check, for extension pages, whose CSP allows only the extension's own scripts."""
    expect(page.locator("html")).to_have_attribute("lang", lang)
    words = foreign_words(page.evaluate(COLLECT), lang)
    if words:
        problems.append(f"{lang} {name}: words in the other script: {sorted(set(words))[:12]}")
    shot(page, f"page-{lang}-{name}")
    try:
        page.add_script_tag(url="axe.min.js")
        violations = axe_violations(page, "")
    except Exception as exc:  # noqa: BLE001 - the extension CSP may refuse the injected script
        problems.append(f"{lang} {name}: axe could not run: {str(exc).splitlines()[0]}")
    else:
        if violations:
            problems.append(f"{lang} {name}: axe: {violations}")
