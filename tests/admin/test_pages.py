"""The console's management pages through the test client: owners, users, import preview, crisis, red flags,
response times, dashboard, unanswered actions and the interface language."""
from __future__ import annotations

import io as std_io
import json
import re

from sqlalchemy import func, select

from kb import phrasings
from kb.models import AuditEvent, Contact, Crisis, Entry, EntryVersion, Inquiry, Phrasing, RedFlagRule, User
from tests.conftest import csrf_from
from tests.factories import approved_entry, draft


def _token(client, path: str) -> str:
    return csrf_from(client.get(path).get_data(as_text=True))


def test_owners_page_adds_contacts_and_toggles_on_call(client, auth, session) -> None:
    auth.login("admin")
    token = _token(client, "/admin/owners")
    bad = client.post("/admin/owners", data={"csrf_token": token, "action": "add-contact",
                                             "contact-department": "legal", "contact-name": "Ruth",
                                             "contact-email": "not-an-email"})
    assert bad.status_code == 422 and "not an e-mail address" in bad.get_data(as_text=True)
    client.post("/admin/owners", data={"csrf_token": token, "action": "add-contact", "contact-department": "legal",
                                       "contact-name": "Ruth Friedman", "contact-email": "ruth@galim.example",
                                       "contact-phone": "+972-3-555-0501"})
    contact = session.scalar(select(Contact).where(Contact.name == "Ruth Friedman"))
    assert contact.department.slug == "legal" and not contact.on_call
    client.post("/admin/owners", data={"csrf_token": token, "action": "on-call", "act-contact_id": contact.id})
    session.refresh(contact)
    assert contact.on_call


def test_category_response_times_refuse_a_stale_form(client, auth, session) -> None:
    from kb.models import Category

    auth.login("admin")
    token = _token(client, "/admin/owners")
    cat = session.scalar(select(Category).where(Category.slug == "billing"))
    form = {"csrf_token": token, "action": "category", "cat-slug": "billing", "cat-row_version": cat.row_version,
            "cat-department": "customer-service", "cat-first_response_minutes": 20, "cat-resolution_minutes": 600,
            "cat-routed": "y"}
    assert client.post("/admin/owners", data=form).status_code == 302
    session.refresh(cat)
    assert (cat.first_response_minutes, cat.resolution_minutes) == (20, 600)
    stale = client.post("/admin/owners", data={**form, "cat-first_response_minutes": 5})
    assert stale.status_code == 409 and "someone else changed this category" in stale.get_data(as_text=True)


def test_users_page_creates_users_and_protects_the_last_admin_rights(client, auth, session, users) -> None:
    auth.login("admin")
    token = _token(client, "/admin/users")
    client.post("/admin/users", data={"csrf_token": token, "action": "create", "new-username": "noa",
                                      "new-display_name": "נועה", "new-role": "editor",
                                      "new-password": "long enough password"})
    noa = session.scalar(select(User).where(User.username == "noa"))
    assert noa.role == "editor" and noa.display_name == "נועה"
    client.post("/admin/users", data={"csrf_token": token, "action": "role", "role-user_id": noa.id,
                                      "role-role": "approver", "role-active": "y"})
    session.refresh(noa)
    assert noa.role == "approver"
    me = users["admin"]
    response = client.post("/admin/users", data={"csrf_token": token, "action": "role", "role-user_id": me.id,
                                                 "role-role": "agent", "role-active": "y"})
    assert response.status_code == 422 and "cannot remove your own admin rights" in response.get_data(as_text=True)


def test_import_shows_a_preview_then_applies(client, auth, session) -> None:
    auth.login("approver")
    token = _token(client, "/admin/transfer")
    rows = [{"id": "a", "question": "Q one?", "answer": "A one.", "lang": "en"},
            {"id": "b", "question": "שאלה?", "answer": "תשובה.", "lang": "he"}]
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
    page = client.post("/admin/transfer", data={"csrf_token": token, "approve": "y",
                                                "file": (std_io.BytesIO(body), "faq.jsonl")},
                       content_type="multipart/form-data")
    html = page.get_data(as_text=True)
    # Counts sit in <bdi> runs so they keep their order in right-to-left text.
    assert page.status_code == 200 and "2 new, 0 changed, 0 unchanged" in re.sub(r"<[^>]+>", "", html)
    assert session.scalar(select(func.count()).select_from(Entry)) == 0  # a preview writes nothing
    apply_token = html.split('name="apply-token" value="')[1].split('"')[0]
    client.post("/admin/transfer/apply", data={"apply-csrf_token": token, "apply-token": apply_token})
    statuses = session.scalars(select(EntryVersion.status)).all()
    assert sorted(statuses) == ["in_review", "in_review"]  # a second approver approves what one person imported
    again = client.post("/admin/transfer", data={"csrf_token": token, "file": (std_io.BytesIO(body), "faq.jsonl")},
                        content_type="multipart/form-data")
    assert "0 new, 0 changed, 2 unchanged" in re.sub(r"<[^>]+>", "", again.get_data(as_text=True))


def test_a_bad_import_file_is_explained(client, auth) -> None:
    auth.login("editor")
    token = _token(client, "/admin/transfer")
    bad = client.post("/admin/transfer", data={"csrf_token": token,
                                               "file": (std_io.BytesIO(b'{"question": "Q"}\n'), "x.jsonl")},
                      content_type="multipart/form-data")
    assert bad.status_code == 422 and "row 1: missing answer" in bad.get_data(as_text=True)
    wrong = client.post("/admin/transfer", data={"csrf_token": token, "file": (std_io.BytesIO(b"x"), "x.pdf")},
                        content_type="multipart/form-data")
    assert "unknown file type .pdf" in wrong.get_data(as_text=True)


def test_export_downloads_every_format(client, auth, session, users) -> None:
    draft(session, users)
    auth.login("editor")
    for fmt in ("csv", "json", "jsonl"):
        response = client.get(f"/admin/export?format={fmt}")
        assert response.status_code == 200 and "restart my router" in response.get_data(as_text=True)
        assert f"vetted-knowledge-base.{fmt}" in response.headers["Content-Disposition"]


def test_crisis_page_starts_and_ends_crisis_mode_for_approvers_only(client, auth, session, users) -> None:
    v = approved_entry(session, users, question="Is there an outage in my area?", category="technical")
    auth.login("editor")
    token = _token(client, "/admin/crisis")
    form = {"csrf_token": token, "action": "start", "crisis-name": "Outage",
            "crisis-holding_he": "אנחנו מטפלים בתקלה.", "crisis-holding_en": "We are on it.",
            "crisis-keywords": "outage in haifa\nהפסקה בחיפה", "crisis-categories": ["billing"],
            "crisis-entries": [str(v.entry_id)]}
    assert client.post("/admin/crisis", data=form).status_code == 403
    assert session.scalar(select(Crisis.id)) is None
    client.post("/logout", data={"csrf_token": token})
    auth.login("approver")
    found = client.get("/admin/crisis?find=outage").get_data(as_text=True)
    assert "Is there an outage in my area?" in found and f'value="{v.entry_id}"' in found
    token = _token(client, "/admin/crisis")
    assert client.post("/admin/crisis", data={**form, "csrf_token": token}).status_code == 302
    crisis = session.scalar(select(Crisis))
    assert crisis.active and crisis.keywords == ["outage in haifa", "הפסקה בחיפה"] and crisis.pattern == ""
    assert crisis.categories == ["billing"] and crisis.entry_ids == [str(v.entry_id)]
    assert "Outage" in client.get("/search").get_data(as_text=True)  # the banner every page shows
    hebrew = client.post("/agent/suggest", json={"question": "יש הפסקה בחיפה?"}, headers={"X-CSRFToken": token})
    english = client.post("/agent/suggest", json={"question": "Is there an outage in Haifa now?"},
                          headers={"X-CSRFToken": token})
    assert hebrew.get_json()["escalation"]["holding_statement"] == "אנחנו מטפלים בתקלה."
    assert english.get_json()["escalation"]["holding_statement"] == "We are on it."
    client.post("/admin/crisis", data={"csrf_token": token, "action": "end", "end-crisis_id": crisis.id})
    session.refresh(crisis)
    assert not crisis.active


def test_a_crisis_without_a_holding_statement_is_explained(client, auth) -> None:
    auth.login("approver")
    token = _token(client, "/admin/crisis")
    page = client.post("/admin/crisis", data={"csrf_token": token, "action": "start", "crisis-name": "Outage",
                                              "crisis-keywords": "outage"})
    assert page.status_code == 422 and "needs a name and a holding statement" in page.get_data(as_text=True)


def test_red_flag_rules_are_edited_by_approvers(client, auth, session) -> None:
    form = {"action": "rule", "rule-kind": "custom", "rule-name": "Competitor poaching", "rule-lang": "en",
            "rule-keywords": "switching to Bezeq\nBezeq offered", "rule-patterns": "", "rule-department": "sales",
            "rule-holding_statement": "Thanks, our sales team will reach out.", "rule-severity": 2, "rule-active": "y"}
    auth.login("editor")
    token = _token(client, "/admin/red-flags")
    assert client.post("/admin/red-flags", data={**form, "csrf_token": token}).status_code == 403
    client.post("/logout", data={"csrf_token": token})
    auth.login("approver")
    token = _token(client, "/admin/red-flags")
    bad = client.post("/admin/red-flags", data={**form, "csrf_token": token, "rule-patterns": "(broken"})
    assert bad.status_code == 422 and "not a valid regular expression" in bad.get_data(as_text=True)
    assert client.post("/admin/red-flags", data={**form, "csrf_token": token}).status_code == 302
    rule = session.scalar(select(RedFlagRule).where(RedFlagRule.name == "Competitor poaching"))
    assert rule.keywords == ["switching to Bezeq", "Bezeq offered"] and rule.department.slug == "sales"
    answer = client.post("/agent/suggest", json={"question": "I'm switching to Bezeq next week"},
                         headers={"X-CSRFToken": token}).get_json()
    assert answer["outcome"] == "escalate" and answer["escalation"]["department"] == "Sales"
    # Edit it in the office's words, switch it off, and remove it: each change audited with before and after.
    edit_page = client.get(f"/admin/red-flags?edit={rule.id}").get_data(as_text=True)
    assert "switching to Bezeq" in edit_page and f'value="{rule.id}"' in edit_page
    client.post("/admin/red-flags", data={**form, "csrf_token": token, "rule-rule_id": rule.id,
                                          "rule-row_version": rule.row_version,
                                          "rule-keywords": "switching to Bezeq\nmoving to Partner"})
    session.refresh(rule)
    assert rule.keywords == ["switching to Bezeq", "moving to Partner"]
    act = {"csrf_token": token, "act-rule_id": rule.id, "act-row_version": rule.row_version}
    client.post("/admin/red-flags", data={**act, "action": "off"})
    session.refresh(rule)
    assert not rule.active
    calm = client.post("/agent/suggest", json={"question": "I'm moving to Partner next week"},
                       headers={"X-CSRFToken": token}).get_json()
    assert calm["outcome"] != "escalate"
    rule_id = rule.id
    client.post("/admin/red-flags", data={**act, "act-row_version": rule.row_version, "action": "remove"})
    session.expire_all()
    assert session.scalar(select(RedFlagRule.id).where(RedFlagRule.id == rule_id)) is None
    trail = session.scalars(select(AuditEvent).where(AuditEvent.action.like("red_flag_rule_%"))
                            .order_by(AuditEvent.id)).all()
    assert [e.action for e in trail][-3:] == ["red_flag_rule_save", "red_flag_rule_save", "red_flag_rule_remove"]
    assert trail[-2].before["active"] is True and trail[-2].after["active"] is False
    assert trail[-1].before["keywords"] == ["switching to Bezeq", "moving to Partner"]


def test_notifiers_have_their_own_page_for_approvers(client, auth, session) -> None:
    auth.login("editor")
    assert client.get("/admin/notifiers").status_code == 403
    client.post("/logout", data={"csrf_token": _token(client, "/search")})
    auth.login("approver")
    token = _token(client, "/admin/notifiers")
    client.post("/admin/notifiers", data={"csrf_token": token, "notifier-department": "legal",
                                          "notifier-kind": "email", "notifier-target": "legal@example.com"})
    assert "legal@example.com" in client.get("/admin/notifiers").get_data(as_text=True)


def test_response_times_page_lists_what_is_owed_and_resolves(client, auth, session) -> None:
    auth.login("agent")
    token = _token(client, "/search")
    asked = client.post("/agent/suggest", json={"question": "my lawyer will call you"},
                        headers={"X-CSRFToken": token}).get_json()
    client.post("/logout", data={"csrf_token": token})
    auth.login("editor")
    page = client.get("/admin/response-times").get_data(as_text=True)
    assert "my lawyer will call you" in page and "<svg" in page
    client.post("/admin/response-times", data={"csrf_token": _token(client, "/admin/response-times"),
                                               "inquiry_id": asked["inquiry_id"], "step": "take"})
    inquiry = session.get(Inquiry, asked["inquiry_id"])
    assert inquiry.taken_at is not None and inquiry.resolved_at is None
    client.post("/admin/response-times", data={"csrf_token": _token(client, "/admin/response-times"),
                                               "inquiry_id": asked["inquiry_id"], "step": "resolve"})
    session.refresh(inquiry)
    assert inquiry.resolved_at is not None
    assert "my lawyer will call you" not in client.get("/admin/response-times").get_data(as_text=True)
    reps = client.get("/admin/response-times?period=30").get_data(as_text=True)
    assert "First reply on the page, per agency rep" in reps and ">Agent<" in reps


def test_dashboard_draws_its_chart(client, auth, session) -> None:
    session.add_all([Inquiry(text="a", lang="en", outcome="answer"), Inquiry(text="b", lang="en", outcome="no_match")])
    session.commit()
    auth.login("editor")
    html = client.get("/admin/dashboard").get_data(as_text=True)
    assert '<svg class="chart"' in html and "50%" in re.sub(r"<[^>]+>", "", html)


def test_unanswered_question_becomes_a_proposed_phrasing(client, auth, session, users) -> None:
    v = approved_entry(session, users)
    session.add(Inquiry(text="modem frozen, what now", lang="en", outcome="no_match"))
    session.add(Inquiry(text="unrelated thing", lang="en", outcome="no_match"))
    session.commit()
    auth.login("editor")
    token = _token(client, "/admin/unanswered")
    client.post("/admin/unanswered", data={"csrf_token": token, "action": "phrasing", "alt-entry_id": v.entry_id,
                                           "alt-phrasing": "modem frozen, what now"})
    candidate = session.scalar(select(Phrasing).where(Phrasing.entry_id == v.entry_id))
    assert (candidate.text, candidate.status, candidate.source) == ("modem frozen, what now", "candidate", "unanswered")
    assert candidate.proposed_by_id == session.scalar(select(User.id).where(User.username == "editor"))
    other = session.scalar(select(Inquiry).where(Inquiry.text == "unrelated thing"))
    client.post("/admin/unanswered", data={"csrf_token": token, "action": "dismiss", "dismiss-ids": str(other.id)})
    assert "unrelated thing" not in client.get("/admin/unanswered").get_data(as_text=True)


def test_interface_switches_to_hebrew_and_mirrors(client, auth) -> None:
    auth.login("editor")
    token = _token(client, "/admin/entries")
    client.post("/language/he", data={"csrf_token": token, "next": "/admin/entries"})
    html = client.get("/admin/entries").get_data(as_text=True)
    assert '<html lang="he" dir="rtl">' in html and "רשומה חדשה" in html and "מאגר התשובות" in html
    client.post("/language/en", data={"csrf_token": token, "next": "https://evil.example/"})
    assert '<html lang="en" dir="ltr">' in client.get("/admin/entries").get_data(as_text=True)


def test_console_refuses_a_backtracking_only_pattern_with_a_form_error(client, auth, session) -> None:
    auth.login("approver")
    token = _token(client, "/admin/red-flags")
    form = {"csrf_token": token, "action": "rule", "rule-kind": "custom", "rule-name": "Look-behind",
            "rule-lang": "en", "rule-keywords": "", "rule-patterns": "(?<=my )lawyer", "rule-department": "legal",
            "rule-holding_statement": "Hold on.", "rule-severity": 2, "rule-active": "y"}
    bad = client.post("/admin/red-flags", data=form)
    assert bad.status_code == 422 and "look-arounds" in bad.get_data(as_text=True)
    token = _token(client, "/admin/crisis")
    bad = client.post("/admin/crisis", data={"csrf_token": token, "action": "start", "crisis-name": "Outage",
                                              "crisis-holding_en": "On it.", "crisis-pattern": r"(a)\1"})
    assert bad.status_code == 422 and "back-references" in bad.get_data(as_text=True)
    assert session.scalar(select(Crisis.id)) is None


def test_notifiers_are_checked_audited_removable_and_keep_their_secrets(app, client, auth, session) -> None:
    from kb.models import AuditEvent, Delivery, Notifier
    from suggest.escalation import notify

    app.config.update(NOTIFY_ALLOW_HTTP=False, NOTIFY_ALLOW_PRIVATE=False)
    auth.login("approver")
    token = _token(client, "/admin/notifiers")
    form = {"csrf_token": token, "action": "add", "notifier-department": "legal", "notifier-kind": "webhook",
            "notifier-secret": "hunter2-very-secret"}
    for inside in ("https://127.0.0.1:5000/hook", "https://169.254.169.254/latest", "http://93.184.215.14/hook"):
        bad = client.post("/admin/notifiers", data={**form, "notifier-target": inside})
        page = bad.get_data(as_text=True)
        assert bad.status_code == 422 and "hunter2" not in page and 'role="alert"' in page
    assert session.scalar(select(Notifier.id)) is None
    assert client.post("/admin/notifiers", data={**form, "notifier-target": "https://93.184.215.14/hook"}
                       ).status_code == 302
    notifier = session.scalar(select(Notifier))
    added = session.scalar(select(AuditEvent).where(AuditEvent.action == "notifier_add"))
    assert added.actor_id is not None and added.after["target"] == "https://93.184.215.14/hook"
    assert added.after["secret"] == "set" and "hunter2" not in json.dumps(added.after)
    page = client.get("/admin/notifiers").get_data(as_text=True)
    assert "93.184.215.14" in page and "hunter2" not in page and ">set<" in page

    notify.queue(session, subject="x", payload={}, department_id=notifier.department_id)
    session.commit()
    assert "93.184.215.14" in client.get("/admin/alerts").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": token})
    auth.login("editor")
    assert client.get("/admin/notifiers").status_code == 403  # addresses are for approvers and admins
    assert "93.184.215.14" not in client.get("/admin/alerts").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": token})
    auth.login("approver")
    token = _token(client, "/admin/notifiers")
    remove = {"csrf_token": token, "action": "remove", "remove-notifier_id": notifier.id}
    assert client.post("/admin/notifiers", data=remove).status_code == 403
    client.post("/logout", data={"csrf_token": token})
    auth.login("admin")
    token = _token(client, "/admin/notifiers")
    assert client.post("/admin/notifiers", data={**remove, "csrf_token": token}).status_code == 302
    session.refresh(notifier)
    assert not notifier.active and "93.184.215.14" not in client.get("/admin/notifiers").get_data(as_text=True)
    owed = session.scalar(select(Delivery).where(Delivery.notifier_id == notifier.id))
    assert owed.status == "failed" and "removed" in owed.last_error
    removed = session.scalar(select(AuditEvent).where(AuditEvent.action == "notifier_remove"))
    assert removed.before["notifier"] == notifier.id and removed.before["secret"] == "set"


def test_learned_phrasings_are_decided_in_one_click_by_another_approver(client, auth, session, users) -> None:
    v = approved_entry(session, users)
    mine = phrasings.propose(session=session, actor=users["approver"], entry_id=v.entry_id, text="modem is <b>dead</b>")
    theirs = phrasings.propose(session=session, actor=users["editor"], entry_id=v.entry_id, text="wifi gone")
    auth.login("editor")
    page = client.get("/admin/phrasings").get_data(as_text=True)
    assert "modem is &lt;b&gt;dead&lt;/b&gt;" in page and "/accept" not in page
    token = csrf_from(page)
    assert client.post(f"/admin/phrasings/{theirs.id}/accept", data={"csrf_token": token}).status_code == 403
    auth.login("approver")
    page = client.get("/admin/phrasings").get_data(as_text=True)
    assert f"/admin/phrasings/{mine.id}/accept" not in page and f"/admin/phrasings/{theirs.id}/accept" in page
    token = csrf_from(page)
    client.post(f"/admin/phrasings/{mine.id}/accept", data={"csrf_token": token})  # refused: four eyes
    client.post(f"/admin/phrasings/{theirs.id}/accept", data={})  # refused: no CSRF token
    session.expire_all()
    assert session.get(Phrasing, mine.id).status == session.get(Phrasing, theirs.id).status == "candidate"
    response = client.post(f"/admin/phrasings/{theirs.id}/accept", data={"csrf_token": token}, follow_redirects=True)
    assert "matched from now on" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Phrasing, theirs.id).status == "accepted"
    client.post(f"/admin/phrasings/{theirs.id}/reject", data={"csrf_token": token})
    session.expire_all()
    assert session.get(Phrasing, theirs.id).status == "rejected"


def test_an_entry_page_lists_its_learned_phrasings(client, auth, session, users) -> None:
    v = approved_entry(session, users)
    matched = phrasings.propose(session=session, actor=users["editor"], entry_id=v.entry_id, text="wifi box dead")
    phrasings.accept(session=session, actor=users["approver"], phrasing_id=matched.id)
    phrasings.propose(session=session, actor=users["editor"], entry_id=v.entry_id, text="net gone <i>again</i>")
    auth.login("editor")
    html = client.get(f"/admin/entries/{v.entry_id}").get_data(as_text=True)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "wifi box dead matched" in text and "waiting for a decision" in text
    assert "net gone &lt;i&gt;again&lt;/i&gt;" in html
    other = approved_entry(session, users, question="How do I pay my bill?", answer="In the app.", alternates=[])
    assert "<h2>Learned phrasings</h2>" not in client.get(f"/admin/entries/{other.entry_id}").get_data(as_text=True)
    assert "<h2>Learned phrasings</h2>" in html


def test_the_phrasings_page_counts_every_candidate_it_does_not_show(client, auth, session, users) -> None:
    v = approved_entry(session, users)
    for n in range(phrasings.LISTED + 1):  # a flood of one-off picks
        phrasings.note_pick(session=session, entry_id=v.entry_id, text=f"wording {n}", lang="en", rank=2,
                            inquiry_id=None, user_id=users["agent"].id)
    session.commit()
    auth.login("approver")
    page = client.get("/admin/phrasings").get_data(as_text=True)
    assert page.count("/accept") == phrasings.LISTED
    assert f"(<bdi>{phrasings.LISTED + 1}</bdi>)" in page


def test_a_matched_wording_of_a_retired_entry_says_it_is_not_served(client, auth, session, users) -> None:
    from kb import service

    v = approved_entry(session, users)
    wording = phrasings.propose(session=session, actor=users["editor"], entry_id=v.entry_id, text="wifi box dead")
    phrasings.accept(session=session, actor=users["approver"], phrasing_id=wording.id)
    auth.login("approver")
    assert "not served" not in client.get("/admin/phrasings").get_data(as_text=True)
    service.retire(session=session, actor=users["approver"], entry_id=v.entry_id, reason="Gone.")
    assert "not served: the entry has no approved version" in client.get("/admin/phrasings").get_data(as_text=True)
