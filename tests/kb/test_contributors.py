"""Everyone who writes or changes a version's text is recorded, and none of them approves it."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from kb import service, storage
from kb.errors import PermissionDenied
from tests.factories import make_draft


def test_every_editor_of_a_draft_is_a_contributor_and_may_not_approve(session, users) -> None:
    v = service.create_draft(session=session, actor=users["editor"], draft=make_draft())
    service.edit(session=session, actor=users["approver"], entry_id=v.entry_id, base_version_id=v.id,
                 base_row_version=v.row_version, draft=make_draft(answer="The approver's own words."))
    assert v.contributor_ids == {users["editor"].id, users["approver"].id} and v.author_id == users["editor"].id
    service.submit(session=session, actor=users["editor"], version_id=v.id)
    with pytest.raises(PermissionDenied, match="text they changed"):
        service.approve(session=session, actor=users["approver"], version_id=v.id)
    assert service.approve(session=session, actor=users["approver"], version_id=v.id,
                           allow_self_approval=True).status == "approved"


def test_a_new_draft_from_an_approved_version_starts_with_its_own_contributors(session, users) -> None:
    v = service.create_draft(session=session, actor=users["approver"], draft=make_draft())
    service.submit(session=session, actor=users["approver"], version_id=v.id)
    service.approve(session=session, actor=users["approver2"], version_id=v.id)
    nxt = service.edit(session=session, actor=users["editor"], entry_id=v.entry_id, base_version_id=v.id,
                       base_row_version=v.row_version, draft=make_draft(answer="Shorter."))
    assert nxt.contributor_ids == {users["editor"].id}
    service.submit(session=session, actor=users["editor"], version_id=nxt.id)
    assert service.approve(session=session, actor=users["approver"], version_id=nxt.id).status == "approved"


def test_the_migration_counts_past_editors_from_the_audit_log(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    cfg = storage.alembic_config(url)
    command.upgrade(cfg, "0002")
    engine = create_engine(url)
    now = dt.datetime(2026, 1, 1)
    with engine.begin() as conn:
        for uid, name in ((1, "ed"), (2, "ap")):
            conn.execute(text("INSERT INTO users (id, username, display_name, password_hash, role, active, "
                              "failed_logins, created_at, row_version) VALUES (:i, :n, :n, 'x', 'editor', 1, 0, "
                              ":t, 1)"), {"i": uid, "n": name, "t": now})
        conn.execute(text("INSERT INTO entries (id, lang, tags, created_at, row_version) "
                          "VALUES (1, 'en', '[]', :t, 1)"), {"t": now})
        conn.execute(text("INSERT INTO entry_versions (id, entry_id, number, question, alternates, answer, variants, "
                          "placeholders, status, comment, author_id, created_at, changed_generation, row_version) "
                          "VALUES (1, 1, 1, 'Q?', '[]', 'A.', '{}', '[]', 'in_review', '', 1, :t, 0, 3)"), {"t": now})
        for actor, action in ((1, "create"), (2, "edit"), (2, "submit")):
            conn.execute(text("INSERT INTO audit_events (at, actor_id, action, entry_id, version_id, comment) "
                              "VALUES (:t, :a, :act, 1, 1, '')"), {"t": now, "a": actor, "act": action})
    command.upgrade(cfg, "head")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT version_id, user_id FROM version_contributors ORDER BY user_id")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [(1, 1), (1, 2)]
