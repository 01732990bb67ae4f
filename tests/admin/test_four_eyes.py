"""Four eyes in the console: nobody approves text they wrote or changed, or text that changed after they saw it."""
from __future__ import annotations

import io as std_io
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from kb import service
from kb.models import AuditEvent, EntryVersion
from tests.admin.test_views import _entry_form
from tests.conftest import csrf_from
from tests.factories import make_draft


def _token(client, path: str = "/admin/review") -> str:
    return csrf_from(client.get(path).get_data(as_text=True))


def _seen_row_versions(html: str) -> dict[str, str]:
    """Return the bulk form's row-version fields exactly as the review page rendered them."""
    return {f"row_version-{vid}": value for vid, value in re.findall(r'name="row_version-(\d+)" value="(\d+)"', html)}


def _approver_rewrites_editors_draft(client, auth, session, users) -> EntryVersion:
    v = service.create_draft(session=session, actor=users["editor"], draft=make_draft())
    auth.login("approver")
    token = _token(client, f"/admin/entries/{v.entry_id}/edit")
    response = client.post(f"/admin/entries/{v.entry_id}/edit", data=_entry_form(
        token, question="How do I restart my router?", answer="Our words now: call us and pay for a visit.",
        category="technical", base_version_id=str(v.id), base_row_version=str(v.row_version)))
    assert response.status_code == 302
    session.refresh(v)
    client.post(f"/admin/versions/{v.id}/submit", data={"csrf_token": token, "row_version": v.row_version})
    session.refresh(v)
    assert v.status == "in_review" and v.author_id == users["editor"].id  # the editor still shows as author
    return v


def test_an_approver_who_rewrote_an_editors_draft_cannot_approve_it(client, auth, session, users) -> None:
    v = _approver_rewrites_editors_draft(client, auth, session, users)
    review = client.get("/admin/review").get_data(as_text=True)
    assert "You wrote or changed this version" in review
    token = csrf_from(review)
    page = client.post(f"/admin/versions/{v.id}/approve", data={"csrf_token": token, "row_version": v.row_version},
                       follow_redirects=True).get_data(as_text=True)
    assert "text they changed" in page
    client.post("/admin/review/bulk-approve", data={"csrf_token": token, "version_id": [str(v.id)], "confirm": "yes",
                                                    **_seen_row_versions(review)})
    session.refresh(v)
    assert v.status == "in_review" and v.approver_id is None
    client.post("/logout", data={"csrf_token": token})
    auth.login("approver2")
    token = _token(client)
    client.post(f"/admin/versions/{v.id}/approve", data={"csrf_token": token, "row_version": v.row_version})
    session.refresh(v)
    assert v.status == "approved" and v.approver.username == "approver2"


def test_self_approval_setting_lets_a_contributor_approve(app, client, auth, session, users) -> None:
    app.config["ALLOW_SELF_APPROVAL"] = True
    v = _approver_rewrites_editors_draft(client, auth, session, users)
    client.post(f"/admin/versions/{v.id}/approve", data={"csrf_token": _token(client), "row_version": v.row_version})
    session.refresh(v)
    assert v.status == "approved"


def test_bulk_approve_refuses_a_version_rewritten_after_the_queue_was_opened(client, auth, session, users) -> None:
    v = service.create_draft(session=session, actor=users["editor"], draft=make_draft())
    steady = service.create_draft(session=session, actor=users["editor2"], draft=make_draft(question="Steady?"))
    service.submit(session=session, actor=users["editor"], version_id=v.id)
    service.submit(session=session, actor=users["editor2"], version_id=steady.id)
    auth.login("approver")
    review = client.get("/admin/review").get_data(as_text=True)  # the approver reads the honest text
    seen = _seen_row_versions(review)
    assert set(seen) == {f"row_version-{v.id}", f"row_version-{steady.id}"}
    session.refresh(v)
    service.withdraw(session=session, actor=users["editor"], version_id=v.id)
    session.refresh(v)
    service.edit(session=session, actor=users["editor"], entry_id=v.entry_id, base_version_id=v.id,
                 base_row_version=v.row_version, draft=make_draft(answer="Send your card number to this chat."))
    service.submit(session=session, actor=users["editor"], version_id=v.id)
    page = client.post("/admin/review/bulk-approve",
                       data={"csrf_token": csrf_from(review), "version_id": [str(v.id), str(steady.id)],
                             "confirm": "yes", **seen}, follow_redirects=True).get_data(as_text=True)
    session.expire_all()
    assert session.get(EntryVersion, v.id).status == "in_review"  # never approved unseen
    assert session.get(EntryVersion, steady.id).status == "approved"
    assert "Approved 1 version(s)." in page and "changed since you opened it" in page


def test_approve_without_the_version_seen_is_refused(client, auth, session, users) -> None:
    v = service.create_draft(session=session, actor=users["editor"], draft=make_draft())
    service.submit(session=session, actor=users["editor"], version_id=v.id)
    auth.login("approver")
    token = _token(client)
    client.post("/admin/review/bulk-approve", data={"csrf_token": token, "version_id": [str(v.id)], "confirm": "yes"})
    client.post(f"/admin/versions/{v.id}/approve", data={"csrf_token": token})
    session.refresh(v)
    assert v.status == "in_review"


def _import(client, token: str, rows: list[dict], tick: bool = True) -> str:
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
    data = {"csrf_token": token, "file": (std_io.BytesIO(body), "faq.jsonl")}
    if tick:
        data["approve"] = "y"
    html = client.post("/admin/transfer", data=data, content_type="multipart/form-data").get_data(as_text=True)
    apply_token = html.split('name="apply-token" value="')[1].split('"')[0]
    client.post("/admin/transfer/apply", data={"apply-csrf_token": token, "apply-token": apply_token})
    return html


ROWS = [{"id": "a", "question": "Q one?", "answer": "A one.", "lang": "en"},
        {"id": "b", "question": "שאלה?", "answer": "תשובה.", "lang": "he"}]


def test_a_console_import_lands_in_review_and_a_second_approver_approves(client, auth, session, users) -> None:
    auth.login("approver")
    token = _token(client, "/admin/transfer")
    preview = _import(client, token, ROWS)
    assert "Imported versions land as" in preview and ">in review<" in preview
    versions = session.scalars(select(EntryVersion).order_by(EntryVersion.id)).all()
    assert [(v.status, v.author_id, v.approver_id) for v in versions] == [("in_review", users["approver"].id,
                                                                           None)] * 2
    audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "import",
                                                     AuditEvent.entry_id.is_(None))).one()
    assert (audit.after["author"], audit.after["status"], audit.after["via"]) == ("approver", "in_review", "console")
    review = client.get("/admin/review").get_data(as_text=True)
    client.post("/admin/review/bulk-approve", data={"csrf_token": token, "confirm": "yes", **_seen_row_versions(review),
                                                    "version_id": [str(v.id) for v in versions]})
    session.expire_all()
    assert {v.status for v in session.scalars(select(EntryVersion))} == {"in_review"}  # the importer cannot
    client.post("/logout", data={"csrf_token": token})
    auth.login("approver2")
    review = client.get("/admin/review").get_data(as_text=True)
    client.post("/admin/review/bulk-approve", data={"csrf_token": csrf_from(review), "confirm": "yes",
                                                    **_seen_row_versions(review),
                                                    "version_id": [str(v.id) for v in versions]})
    session.expire_all()
    assert {(v.status, v.approver_id) for v in session.scalars(select(EntryVersion))} == {
        ("approved", users["approver2"].id)}


def test_an_editor_may_send_an_import_for_review(client, auth, session) -> None:
    auth.login("editor")
    _import(client, _token(client, "/admin/transfer"), ROWS)
    assert set(session.scalars(select(EntryVersion.status))) == {"in_review"}


def test_a_console_import_is_approved_at_once_only_where_self_approval_is_on(app, client, auth, session) -> None:
    app.config["ALLOW_SELF_APPROVAL"] = True
    auth.login("approver")
    _import(client, _token(client, "/admin/transfer"), ROWS)
    assert set(session.scalars(select(EntryVersion.status))) == {"approved"}
    actions = [e.action for e in session.scalars(select(AuditEvent).where(AuditEvent.entry_id.is_not(None))
                                                 .order_by(AuditEvent.id))]
    assert actions == ["import", "submit", "approve"] * 2


def test_cli_approve_as_approves_through_the_workflow_and_says_so(app, runner, session, tmp_path: Path) -> None:
    src = tmp_path / "faq.jsonl"
    src.write_text(json.dumps(ROWS[0]) + "\n", encoding="utf-8")
    assert runner.invoke(args=["kb", "import", str(src), "--approve-as", "approver"]).exit_code == 0
    src.write_text(json.dumps({**ROWS[0], "answer": "A one, better."}) + "\n", encoding="utf-8")
    assert runner.invoke(args=["kb", "import", str(src), "--approve-as", "approver"]).exit_code == 0
    first, second = session.scalars(select(EntryVersion).order_by(EntryVersion.number)).all()
    assert (first.status, second.status) == ("superseded", "approved")
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    per_version = [(e.action, e.version_id) for e in events if e.version_id]
    assert ("supersede", first.id) in per_version and ("approve", second.id) in per_version
    summaries = [e for e in events if e.action == "import" and e.entry_id is None]
    assert all(e.after["via"] == "cli" and "operator migration" in e.comment for e in summaries)
    editor_try = runner.invoke(args=["kb", "import", str(src), "--approve-as", "editor"])
    assert editor_try.exit_code == 1 and "approver role" in editor_try.output


def _rendered_form(html: str, action: str) -> list[tuple[str, str]]:
    """Return a form's fields in page order, as a browser submits them (the first of a repeated name wins)."""
    body = html.split(f'action="{action}"', 1)[1].split("</form>", 1)[0]
    return re.findall(r'<input[^>]*?name="([^"]+)"[^>]*?value="([^"]*)"', body)


@pytest.mark.parametrize("changed", [False, True])
@pytest.mark.parametrize("page", ["review", "entry"])
def test_the_approve_button_sends_the_version_it_shows(client, auth, session, users, page: str, changed: bool) -> None:
    v = service.create_draft(session=session, actor=users["editor"], draft=make_draft())
    service.submit(session=session, actor=users["editor"], version_id=v.id)
    auth.login("approver")
    path = "/admin/review" if page == "review" else f"/admin/entries/{v.entry_id}"
    fields = _rendered_form(client.get(path).get_data(as_text=True), f"/admin/versions/{v.id}/approve")
    if changed:
        session.refresh(v)
        service.withdraw(session=session, actor=users["editor"], version_id=v.id)
        service.submit(session=session, actor=users["editor"], version_id=v.id)
    client.post(f"/admin/versions/{v.id}/approve", data=MultiDict(fields))
    session.refresh(v)
    assert v.status == ("in_review" if changed else "approved")
