"""Entry use cases against a real database: lifecycle, locking, audit, generation."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from kb import history, listing, service, storage, suggestable
from kb.errors import (
    PermissionDenied,
    StaleWrite,
    TransitionNotAllowed,
    ValidationFailed,
)
from kb.models import AuditEvent, Entry
from tests.factories import approved_entry, draft, in_review, make_draft


def test_draft_submit_approve_makes_it_suggestable(session, users) -> None:
    version = approved_entry(session, users)
    assert version.status == "approved" and version.approver_id == users["approver"].id
    assert [v.id for v in suggestable.list_suggestable(session=session)] == [version.id]
    assert version.entry.approved_version_id == version.id
    assert version.entry.department.slug == "technical-support"  # taken from the category


def test_drafts_and_reviews_are_never_suggestable(session, users) -> None:
    first = draft(session, users)
    in_review(session, users, question="Other?")
    assert first.status == "draft"
    assert suggestable.list_suggestable(session=session) == []


def test_expired_review_date_stops_suggesting(session, users) -> None:
    version = approved_entry(session, users, review_by=dt.date(2030, 1, 1))
    assert suggestable.list_suggestable(session=session, today=dt.date(2029, 12, 31))
    assert suggestable.list_suggestable(session=session, today=dt.date(2030, 1, 2)) == []
    assert suggestable.suggestable_rows(session=session, version_ids=[version.id], today=dt.date(2030, 1, 2)) == []


def test_editing_approved_starts_a_draft_and_the_approved_keeps_serving(session, users) -> None:
    v1 = approved_entry(session, users)
    v2 = service.edit(session=session, actor=users["editor"], entry_id=v1.entry_id, base_version_id=v1.id,
                      base_row_version=v1.row_version, draft=make_draft(answer="A better answer."))
    assert (v2.number, v2.status) == (2, "draft")
    assert [v.id for v in suggestable.list_suggestable(session=session)] == [v1.id]
    service.submit(session=session, actor=users["editor"], version_id=v2.id)
    assert [v.id for v in suggestable.list_suggestable(session=session)] == [v1.id]
    service.approve(session=session, actor=users["approver"], version_id=v2.id)
    assert [v.answer for v in suggestable.list_suggestable(session=session)] == ["A better answer."]
    assert session.get(type(v1), v1.id).status == "superseded"


def test_a_stale_edit_is_refused_and_loses_nothing(session, users) -> None:
    v1 = draft(session, users)
    seen = v1.row_version
    service.edit(session=session, actor=users["editor2"], entry_id=v1.entry_id, base_version_id=v1.id,
                 base_row_version=seen, draft=make_draft(answer="First save wins."))
    with pytest.raises(StaleWrite):
        service.edit(session=session, actor=users["editor"], entry_id=v1.entry_id, base_version_id=v1.id,
                     base_row_version=seen, draft=make_draft(answer="Second save must not overwrite."))
    assert service.get_version(session=session, version_id=v1.id).answer == "First save wins."


def test_a_second_draft_from_the_same_approved_version_is_refused(session, users) -> None:
    v1 = approved_entry(session, users)
    service.edit(session=session, actor=users["editor"], entry_id=v1.entry_id, base_version_id=v1.id,
                 base_row_version=v1.row_version, draft=make_draft(answer="One."))
    with pytest.raises(StaleWrite, match="newer draft"):
        service.edit(session=session, actor=users["editor2"], entry_id=v1.entry_id, base_version_id=v1.id,
                     base_row_version=v1.row_version, draft=make_draft(answer="Two."))


def test_stale_approval_is_refused(session, users) -> None:
    v = draft(session, users)
    seen = v.row_version
    service.submit(session=session, actor=users["editor"], version_id=v.id)
    with pytest.raises(StaleWrite):
        service.approve(session=session, actor=users["approver"], version_id=v.id, row_version=seen)


def test_reject_returns_to_the_author_with_the_comment(session, users) -> None:
    v = in_review(session, users)
    with pytest.raises(ValidationFailed):
        service.reject(session=session, actor=users["approver"], version_id=v.id, comment=" ")
    session.rollback()
    service.reject(session=session, actor=users["approver"], version_id=v.id, comment="Too long for X.")
    assert (v.status, v.comment) == ("rejected", "Too long for X.")
    edited = service.edit(session=session, actor=users["editor"], entry_id=v.entry_id, base_version_id=v.id,
                          base_row_version=v.row_version, draft=make_draft(answer="Shorter."))
    assert edited.id == v.id and edited.status == "draft"


def test_forbidden_moves_are_refused_with_a_reason(session, users) -> None:
    v = draft(session, users, author="approver")
    with pytest.raises(TransitionNotAllowed, match="draft"):
        service.approve(session=session, actor=users["approver2"], version_id=v.id)
    service.submit(session=session, actor=users["approver"], version_id=v.id)
    with pytest.raises(PermissionDenied, match="own draft"):
        service.approve(session=session, actor=users["approver"], version_id=v.id)
    with pytest.raises(PermissionDenied, match="approver"):
        service.approve(session=session, actor=users["editor"], version_id=v.id)
    with pytest.raises(PermissionDenied):
        service.create_draft(session=session, actor=users["agent"], draft=make_draft())


def test_retire_needs_a_reason_and_stops_suggesting(session, users) -> None:
    v = approved_entry(session, users)
    with pytest.raises(ValidationFailed):
        service.retire(session=session, actor=users["approver"], entry_id=v.entry_id, reason="")
    session.rollback()
    service.retire(session=session, actor=users["approver"], entry_id=v.entry_id, reason="Offer ended.")
    assert suggestable.list_suggestable(session=session) == []
    with pytest.raises(TransitionNotAllowed):
        service.retire(session=session, actor=users["approver"], entry_id=v.entry_id, reason="again")


def test_generation_moves_only_when_suggestable_set_changes(session, users) -> None:
    start = storage.generation(session)
    v = in_review(session, users)
    assert storage.generation(session) == start
    service.approve(session=session, actor=users["approver"], version_id=v.id)
    assert storage.generation(session) == start + 1
    gen, added, removed = suggestable.changes_since(session=session, generation=start)
    assert (gen, [x.id for x in added], removed) == (start + 1, [v.id], [])
    service.retire(session=session, actor=users["approver"], entry_id=v.entry_id, reason="gone")
    gen, added, removed = suggestable.changes_since(session=session, generation=start + 1)
    assert (gen, added, [x.id for x in removed]) == (start + 2, [], [v.id])


def test_every_step_is_audited_with_before_and_after(session, users) -> None:
    v1 = approved_entry(session, users)
    v2 = service.edit(session=session, actor=users["editor"], entry_id=v1.entry_id, base_version_id=v1.id,
                      base_row_version=v1.row_version, draft=make_draft(answer="New answer."))
    service.submit(session=session, actor=users["editor"], version_id=v2.id)
    service.reject(session=session, actor=users["approver"], version_id=v2.id, comment="No.")
    service.retire(session=session, actor=users["approver"], entry_id=v1.entry_id, reason="Old.")
    events = history.trail(session=session, entry_id=v1.entry_id)
    assert [(e.action, e.actor.username) for e in events] == [
        ("create", "editor"), ("submit", "editor"), ("approve", "approver"), ("edit", "editor"),
        ("submit", "editor"), ("reject", "approver"), ("retire", "approver"),
    ]
    edit = events[3]
    assert edit.before["answer"] != edit.after["answer"] == "New answer."
    assert events[2].before["status"] == "in_review" and events[2].after["status"] == "approved"
    assert events[6].comment == "Old."


def test_content_rules_are_enforced(session, users) -> None:
    cases = [
        (make_draft(question=" "), "question is empty"),
        (make_draft(answer=""), "answer is empty"),
        (make_draft(lang="klingon"), "language"),
        (make_draft(variants={"x": "x" * 281}), "limit is 280"),
        (make_draft(variants={"fax": "hi"}), "unknown channel"),
        (make_draft(answer="Fee is {fee}."), "undeclared placeholders: fee"),
        (make_draft(placeholders=["fee"]), "never used: fee"),
        (make_draft(category="nope"), "unknown category"),
    ]
    for invalid, message in cases:
        with pytest.raises(ValidationFailed, match=message):
            service.create_draft(session=session, actor=users["editor"], draft=invalid)
        session.rollback()
    assert session.scalar(select(Entry.id)) is None


def test_word_diff_of_two_versions(session, users) -> None:
    v1 = approved_entry(session, users, answer="Unplug the router and wait.")
    v2 = service.edit(session=session, actor=users["editor"], entry_id=v1.entry_id, base_version_id=v1.id,
                      base_row_version=v1.row_version, draft=make_draft(answer="Unplug the modem and wait."))
    diff = history.diff(session=session, version_a=v1.id, version_b=v2.id)
    assert diff == {"answer": [("equal", "Unplug the"), ("delete", "router"), ("insert", "modem"),
                               ("equal", "and wait.")]}


def test_audit_log_is_append_only_through_the_services(session, users) -> None:
    approved_entry(session, users)
    before = session.scalars(select(AuditEvent.id)).all()
    listing.status_counts(session=session)
    listing.audit_log(session=session, search="approve")
    assert session.scalars(select(AuditEvent.id)).all() == before
    assert [e.action for e in listing.audit_log(session=session, search="submit")] == ["submit"]
