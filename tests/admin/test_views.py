"""The PR console through the test client: permissions, forms, CSRF, workflow, stale saves, queues."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from kb import service
from kb.models import Entry, EntryVersion, Inquiry
from tests.conftest import ROLES, csrf_from
from tests.factories import approved_entry, draft, in_review, make_draft

RANK = {role: i for i, role in enumerate(ROLES)}


def _required(app, endpoint: str):
    view = app.view_functions[endpoint]
    return getattr(view, "required_role", "missing"), getattr(view, "required_scope", None)


def test_every_route_declares_who_may_use_it(app) -> None:
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        role, scope = _required(app, rule.endpoint)
        assert role != "missing" or scope is not None, f"{rule.rule} has no explicit role"


@pytest.fixture
def entry(session, users):
    return approved_entry(session, users)


def _get_paths(app, entry_id: int) -> list[tuple[str, str]]:
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static" or rule.rule.startswith("/api/"):
            continue
        path = rule.rule.replace("<int:entry_id>", str(entry_id))
        if "<" not in path:
            paths.append((path, rule.endpoint))
    return paths


@pytest.mark.parametrize("who", [None, *ROLES])
def test_permission_matrix_for_every_page(app, client, auth, entry, who) -> None:
    if who:
        auth.login(who)
    for path, endpoint in _get_paths(app, entry.entry_id):
        role, _ = _required(app, endpoint)
        response = client.get(path)
        if role is None:
            assert response.status_code in (200, 302, 401, 403), path  # public; metrics checks itself
        elif who is None:
            assert response.status_code == 302 and "/login" in response.headers["Location"], path
        elif RANK[who] >= RANK[role.value]:
            assert response.status_code in (200, 302), (path, who, response.status_code)
        else:
            assert response.status_code == 403, (path, who)


def _form_token(client, path: str) -> str:
    return csrf_from(client.get(path).get_data(as_text=True))


def _entry_form(token: str, **overrides: str) -> dict[str, str]:
    data = {"csrf_token": token, "question": "Can I pay by PayPal?", "alternates": "paypal payment\npay with paypal",
            "answer": "Not yet; cards and direct debit only.", "lang": "en", "category": "billing",
            "department": "", "variant_x": "", "variant_facebook": "", "variant_instagram": "", "variant_email": "",
            "placeholders": "", "tags": "payments", "review_by": ""}
    data.update(overrides)
    return data


def test_editor_drafts_submits_and_another_approves(client, auth, session) -> None:
    auth.login("editor")
    token = _form_token(client, "/admin/entries/new")
    response = client.post("/admin/entries/new", data=_entry_form(token))
    assert response.status_code == 302
    entry_id = int(response.headers["Location"].rsplit("/", 1)[1])
    version = session.scalar(select(EntryVersion).where(EntryVersion.entry_id == entry_id))
    assert version.alternates == ["paypal payment", "pay with paypal"] and version.status == "draft"
    page = client.get(f"/admin/entries/{entry_id}").get_data(as_text=True)
    assert "Submit" in page and ">Approve<" not in page
    client.post(f"/admin/versions/{version.id}/submit", data={"csrf_token": token, "row_version": 1})
    client.post("/logout", data={"csrf_token": token})
    auth.login("approver")
    review = client.get("/admin/review").get_data(as_text=True)
    assert "Can I pay by PayPal?" in review
    token = _form_token(client, "/admin/review")
    session.refresh(version)
    client.post(f"/admin/versions/{version.id}/approve",
                data={"csrf_token": token, "row_version": version.row_version, "next": "review"})
    session.refresh(version)
    assert version.status == "approved" and version.approver.username == "approver"


def test_form_errors_are_shown_and_nothing_is_saved(client, auth, session) -> None:
    auth.login("editor")
    token = _form_token(client, "/admin/entries/new")
    cases = [
        ({"question": ""}, "This field is required"),
        ({"variant_x": "x" * 281}, "X allows 280"),
        ({"answer": "Costs {fee}."}, "undeclared placeholders: fee"),
        ({"placeholders": "fee"}, "never used: fee"),
        ({"lang": "xx"}, "Not a valid choice"),
    ]
    for override, message in cases:
        response = client.post("/admin/entries/new", data=_entry_form(token, **override))
        assert response.status_code == 422, override
        assert message in response.get_data(as_text=True), override
    assert session.scalar(select(func.count()).select_from(Entry)) == 0


def test_forms_without_csrf_are_refused(client, auth, session) -> None:
    auth.login("editor")
    data = _entry_form("")
    data.pop("csrf_token")
    response = client.post("/admin/entries/new", data=data)
    assert response.status_code == 400
    assert session.scalar(select(func.count()).select_from(Entry)) == 0
    assert client.post("/logout").status_code == 400


def test_a_stale_save_shows_both_versions_and_loses_neither(client, auth, session, users, entry) -> None:
    auth.login("editor")
    path = f"/admin/entries/{entry.entry_id}/edit"
    page = client.get(path).get_data(as_text=True)
    token = csrf_from(page)
    base_id = re.search(r'name="base_version_id" type="hidden" value="(\d+)"', page).group(1)
    base_row = re.search(r'name="base_row_version" type="hidden" value="(\d+)"', page).group(1)
    # Someone else saves a draft from the same approved version first.
    service.edit(session=session, actor=users["editor2"], entry_id=entry.entry_id, base_version_id=entry.id,
                 base_row_version=entry.row_version, draft=make_draft(answer="Their answer."))
    mine = _entry_form(token, question=entry.question, answer="My answer.", category="technical",
                       base_version_id=base_id, base_row_version=base_row)
    response = client.post(path, data=mine)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Someone else saved first" in html and "Their answer." in html and "My answer." in html
    # Saving again builds on their draft and keeps my text.
    retry = dict(mine)
    retry["base_version_id"] = re.search(r'name="base_version_id" type="hidden" value="(\d+)"', html).group(1)
    retry["base_row_version"] = re.search(r'name="base_row_version" type="hidden" value="(\d+)"', html).group(1)
    assert client.post(path, data=retry).status_code == 302
    answers = session.scalars(select(EntryVersion.answer).where(EntryVersion.entry_id == entry.entry_id)).all()
    assert "My answer." in answers


def test_reject_needs_a_comment_and_retire_a_reason(client, auth, session, users) -> None:
    v = in_review(session, users)
    auth.login("approver")
    token = _form_token(client, "/admin/review")
    response = client.post(f"/admin/versions/{v.id}/reject", data={"csrf_token": token, "comment": ""},
                           follow_redirects=True)
    assert "needs a comment" in response.get_data(as_text=True)
    session.refresh(v)
    assert v.status == "in_review"
    client.post(f"/admin/versions/{v.id}/reject", data={"csrf_token": token, "comment": "Say it shorter."})
    session.refresh(v)
    assert (v.status, v.comment) == ("rejected", "Say it shorter.")


def test_an_approver_cannot_approve_their_own_draft_in_the_console(client, auth, session, users) -> None:
    v = in_review(session, users, author="approver")
    auth.login("approver")
    assert "another approver decides" in client.get("/admin/review").get_data(as_text=True)
    token = _form_token(client, "/admin/review")
    response = client.post(f"/admin/versions/{v.id}/approve",
                           data={"csrf_token": token, "row_version": v.row_version}, follow_redirects=True)
    assert "own draft" in response.get_data(as_text=True)
    session.refresh(v)
    assert v.status == "in_review"


def test_user_text_is_escaped_everywhere(client, auth, session, users) -> None:
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    draft(session, users, question=payload, answer=payload)
    session.add(Inquiry(text=payload, lang="en", outcome="no_match"))
    session.commit()
    v = session.scalar(select(EntryVersion))
    assert "<script>" not in v.question and v.question.startswith('alert("x")')  # markup is stripped on save
    service.submit(session=session, actor=users["editor"], version_id=v.id)
    service.reject(session=session, actor=users["approver"], version_id=v.id, comment=payload)
    auth.login("admin")
    for path in ("/admin/entries", "/admin/entries/1", "/admin/unanswered", "/admin/review", "/admin/audit"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html, path
    for path in ("/admin/entries/1", "/admin/unanswered"):
        assert "&lt;script&gt;" in client.get(path).get_data(as_text=True), path


def test_unanswered_questions_are_clustered(client, auth, session) -> None:
    for text in ("Can I pay with PayPal?", "can i pay with paypal please", "Do you accept PayPal payments?",
                 "Is there a store in Eilat?"):
        session.add(Inquiry(text=text, lang="en", outcome="no_match"))
    session.add(Inquiry(text="Can I pay with PayPal?", lang="en", outcome="answer", sent_to_pr=True))
    session.add(Inquiry(text="How do I restart?", lang="en", outcome="answer"))
    session.commit()
    from suggest.insights.unanswered import clusters

    found = clusters(session=session)
    assert [(c.count, c.sent_by_agents) for c in found] == [(3, 1), (1, 0), (1, 0)]
    assert found[0].examples == ["Can I pay with PayPal?", "can i pay with paypal please"]
    assert all("restart" not in ex for c in found for ex in c.examples)
    auth.login("editor")
    page = client.get("/admin/unanswered").get_data(as_text=True)
    assert "Draft an entry from this" in page and "Eilat" in page


def test_api_keys_are_shown_once_and_revocable(client, auth, session) -> None:
    auth.login("admin")
    token = _form_token(client, "/admin/keys")
    page = client.post("/admin/keys", data={"csrf_token": token, "new-username": "agent", "new-name": "extension",
                                            "new-scopes": ["suggest", "feedback"]}).get_data(as_text=True)
    raw = re.search(r'class="new-key"[^>]*>(vt_[^<]+)<', page).group(1)
    assert raw not in client.get("/admin/keys").get_data(as_text=True)
    assert client.post("/api/v1/suggest", json={"question": "hi"},
                       headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    from kb.models import ApiKey

    key_id = session.scalar(select(ApiKey.id))
    client.post("/admin/keys", data={"csrf_token": token, "revoke-key_id": key_id})
    assert client.post("/api/v1/suggest", json={"question": "hi"},
                       headers={"Authorization": f"Bearer {raw}"}).status_code == 401


def test_login_locks_after_repeated_failures(app, client, auth) -> None:
    app.config["LOGIN_MAX_FAILURES"] = 3
    for _ in range(3):
        assert auth.login("editor", "wrong password!").status_code == 401
    locked = auth.login("editor")
    assert locked.status_code == 401 and "too many failed logins" in locked.get_data(as_text=True)


def test_login_never_redirects_off_site(client, auth) -> None:
    page = client.get("/login?next=https://evil.example/")
    token = csrf_from(page.get_data(as_text=True))
    from tests.conftest import PASSWORD

    response = client.post("/login?next=https://evil.example/",
                           data={"username": "agent", "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/search"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_review_queue_shows_new_entries_in_full(client, auth, session, users) -> None:
    in_review(session, users, variants={"x": "Short."})
    auth.login("approver")
    html = client.get("/admin/review").get_data(as_text=True)
    assert "How do I restart my router?" in html and "X / Twitter" in html and "Short." in html


def test_bulk_approve_needs_confirmation_and_skips_own_drafts(client, auth, session, users) -> None:
    mine = in_review(session, users, author="approver", question="Mine?")
    theirs = in_review(session, users, question="Theirs?")
    other = in_review(session, users, author="editor2", question="Other?")
    auth.login("approver")
    token = csrf_from(client.get("/admin/review").get_data(as_text=True))
    ids = [str(mine.id), str(theirs.id), str(other.id)]
    seen = {f"row_version-{v.id}": v.row_version for v in (mine, theirs, other)}
    client.post("/admin/review/bulk-approve", data={"csrf_token": token, "version_id": ids, **seen})
    assert {session.get(EntryVersion, int(i)).status for i in ids} == {"in_review"}  # no confirmation, no change
    page = client.post("/admin/review/bulk-approve",
                       data={"csrf_token": token, "version_id": ids, "confirm": "yes", **seen},
                       follow_redirects=True).get_data(as_text=True)
    session.expire_all()
    assert [session.get(EntryVersion, int(i)).status for i in ids] == ["in_review", "approved", "approved"]
    assert "Approved 2 version(s)." in page and "own draft" in page
