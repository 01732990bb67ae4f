"""The one message catalogue: every marked message translated, the scripts' copy current, dates per locale."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from web import catalogue
from web.i18n import markup, span, translate, when
from web.js_messages import JS_MESSAGES
from web.labels import LABELS

HEBREW = re.compile(r"[\u0590-\u05FF]")


def test_every_message_in_the_code_has_hebrew_and_english() -> None:
    found = catalogue.extract()
    assert "Audit log" in found and "Entry {id}" in found and "Copy" in found  # templates, views and scripts
    for lang in ("he", "en"):
        table = catalogue.messages(lang)
        missing = sorted(m for m in found if m not in table)
        assert not missing, f"{lang} lacks {missing[:10]}"


def test_hebrew_translations_are_hebrew_and_keep_their_placeholders() -> None:
    brands = {"Vetted", "{n}%", "{status}: {n}", "{who}, {when} UTC", "webhook"}
    for msgid, text in catalogue.messages("he").items():
        if msgid not in brands:
            assert HEBREW.search(text), f"not Hebrew: {msgid!r} -> {text!r}"
        if msgid != "Placeholders (comma-separated names used as {name})":  # a literal brace, not a value
            assert set(re.findall(r"\{\w+\}", msgid)) == set(re.findall(r"\{\w+\}", text)), msgid


def test_arabic_and_russian_are_started() -> None:
    assert translate("Search", "ar") == "بحث" and translate("Search", "ru") == "Поиск"


def test_every_code_label_is_in_the_catalogue() -> None:
    he = catalogue.messages("he")
    for group in LABELS.values():
        for english in group.values():
            assert english in he, english


def test_the_scripts_catalogue_is_generated_from_the_po_files() -> None:
    assert catalogue.JS_CATALOGUE.read_text(encoding="utf-8") == catalogue.js_source(), \
        "static/js/catalogue.js is stale: run `python -m web.catalogue js`"
    source = catalogue.js_source()
    assert '"copy": "העתקה"' in source and '"copy": "Copy"' in source
    assert set(JS_MESSAGES) >= {"high", "noMatch", "escalate", "fillOne", "emptyPlaceholder", "ch_web"}


def test_check_command_fails_on_a_stale_catalogue(tmp_path, monkeypatch) -> None:
    stale = tmp_path / "catalogue.js"
    stale.write_text("// old\n", encoding="utf-8")
    monkeypatch.setattr(catalogue, "JS_CATALOGUE", stale)
    assert catalogue.main(["check"]) == 1
    assert catalogue.main(["js"]) == 0 and catalogue.main(["check"]) == 0
    assert catalogue.main(["nonsense"]) == 2


def test_mixed_runs_are_isolated_and_escaped() -> None:
    html = str(markup("Entry {id}", "he", {"id": "<b>7</b>"}))
    assert html == "רשומה <bdi>&lt;b&gt;7&lt;/b&gt;</bdi>"


@pytest.mark.parametrize(("lang", "expected"), [("he", "28.11.2026"), ("en", "11/28/26")])
def test_dates_follow_the_locale_and_stay_left_to_right(app, lang: str, expected: str) -> None:
    with app.test_request_context("/"):
        html = str(when(dt.datetime(2026, 11, 28, 9, 5), lang))
        assert expected in html and 'dir="ltr"' in html
        ranged = str(span(dt.datetime(2026, 11, 1, 9, 0), dt.datetime(2026, 11, 3, 17, 30), lang))
        assert "<bdi" in ranged and "17:30" in ranged or "5:30" in ranged


def test_department_names_follow_the_interface_language(app) -> None:
    from web.i18n import named

    with app.test_request_context("/"):
        assert named("department", "customer-service", "he") == "שירות לקוחות"  # the first lookup too
        assert named("department", "Legal", "he") == "מחלקה משפטית"
        assert named("department", "Legal", "en") == "Legal"
        assert named("category", "nothing-like-it", "he") == "nothing-like-it"


def test_language_choice_is_kept_on_the_account_and_across_sign_out(client, auth) -> None:
    import re as _re

    auth.login("agent")
    page = client.get("/search", headers={"Accept-Language": "en"}).get_data(as_text=True)
    token = _re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/language/he", data={"csrf_token": token, "next": "/search"})
    assert 'lang="he"' in client.get("/search", headers={"Accept-Language": "en"}).get_data(as_text=True)
    page = client.get("/search").get_data(as_text=True)
    token = _re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/logout", data={"csrf_token": token})
    assert 'lang="he"' in client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)  # cookie
    client.delete_cookie("ui_lang")
    assert 'lang="en"' in client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    auth.login("agent")  # a new sign-in, no cookie: the account remembers
    assert 'lang="he"' in client.get("/search", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_the_api_names_departments_in_the_callers_language(client, session) -> None:
    from kb import accounts, demo

    demo.load(session=session)
    _, raw = accounts.create_api_key(session=session, user=accounts.get_by_username(session=session, username="agent"),
                                     scopes=["suggest"])
    asked = {"question": "אני מעביר את זה לעורך הדין שלי ואתבע אתכם"}
    he = client.post("/api/v1/suggest", json=asked, headers={"Authorization": f"Bearer {raw}",
                                                             "Accept-Language": "he"}).get_json()
    en = client.post("/api/v1/suggest", json=asked, headers={"Authorization": f"Bearer {raw}"}).get_json()
    assert he["outcome"] == en["outcome"] == "escalate"
    assert HEBREW.search(he["escalation"]["department"]) and not HEBREW.search(en["escalation"]["department"])


def test_form_validation_messages_follow_the_interface_language(client, auth) -> None:
    auth.login("editor")
    page = client.get("/admin/entries/new", headers={"Accept-Language": "he"}).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    sent = client.post("/admin/entries/new", data={"csrf_token": token, "lang": "he", "question": "",
                                                   "answer": ""}, headers={"Accept-Language": "he"})
    html = sent.get_data(as_text=True)
    assert sent.status_code == 422 and "This field is required." not in html
    assert "שדה" in re.sub(r"<[^>]+>", " ", html.split("<form", 1)[1])
