"""Learned phrasings: agents' picks become candidates, an approver (never the proposer) accepts, the matcher learns."""
from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kb import phrasings, storage, suggestable
from kb.errors import Conflict, PermissionDenied, ValidationFailed
from kb.models import AuditEvent, Phrasing, User
from tests.factories import approved_entry, draft


def _pick(session, entry_id: int, text: str, rank: int = 2, user_id: int | None = None) -> None:
    phrasings.note_pick(session=session, entry_id=entry_id, text=text, lang="en", rank=rank, inquiry_id=None,
                        user_id=user_id)
    session.commit()


def test_picks_make_one_candidate_and_count_up(session, users) -> None:
    v = approved_entry(session, users)
    _pick(session, v.entry_id, "router   blinking red, help", rank=3)
    _pick(session, v.entry_id, "Router blinking red, help", rank=2)
    [candidate] = session.scalars(select(Phrasing)).all()
    assert (candidate.status, candidate.times_picked, candidate.best_rank) == ("candidate", 2, 2)
    assert candidate.text == "router blinking red, help" and candidate.source == "picked"


def test_a_pick_of_a_known_wording_or_an_unapproved_entry_is_not_a_candidate(session, users) -> None:
    v = approved_entry(session, users, alternates=["modem is dead"])
    unapproved = draft(session, users, question="Where is my order?")
    _pick(session, v.entry_id, "Modem is dead")
    _pick(session, v.entry_id, v.question)
    _pick(session, unapproved.entry_id, "where's my stuff")
    _pick(session, 99999, "no such entry")
    assert session.scalars(select(Phrasing)).all() == []


def _at_once(app, times: int, work: Callable[[Session], None]) -> list[BaseException]:
    """Run `work` in `times` threads, each with a session of its own, released together; return what they raised."""
    barrier = threading.Barrier(times)
    errors: list[BaseException] = []

    def run() -> None:
        s = storage.database(app).sessions()
        try:
            barrier.wait()
            work(s)
        except BaseException as exc:  # noqa: BLE001 - reported by the caller's assertion
            errors.append(exc)
        finally:
            s.close()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_two_agents_picking_at_once_both_count(app, session, users) -> None:
    v = approved_entry(session, users)
    errors = _at_once(app, 2, lambda s: _pick(s, v.entry_id, "wifi gone again"))
    assert errors == []
    assert session.scalar(select(Phrasing.times_picked)) == 2


def test_accepting_moves_the_generation_and_reindexes_the_entry(session, users) -> None:
    v = approved_entry(session, users)
    _pick(session, v.entry_id, "wifi gone again", user_id=users["agent"].id)
    candidate = session.scalar(select(Phrasing))
    before = storage.generation(session)
    _current, added, _removed = suggestable.changes_since(session=session, generation=before)
    assert added == []
    phrasings.accept(session=session, actor=users["approver"], phrasing_id=candidate.id)
    after = storage.generation(session)
    assert after == before + 1
    _current, added, removed = suggestable.changes_since(session=session, generation=before)
    assert [a.id for a in added] == [v.id] and removed == []
    assert [p.text for p in added[0].entry.learned_phrasings] == ["wifi gone again"]
    audit = session.scalar(select(AuditEvent).where(AuditEvent.action == "phrasing_accept"))
    assert audit.actor_id == users["approver"].id and audit.after["text"] == "wifi gone again"
    # Turning it down again stops matching it, and moves the generation once more.
    phrasings.reject(session=session, actor=users["approver2"], phrasing_id=candidate.id)
    assert storage.generation(session) == after + 1
    session.expire_all()
    assert suggestable.list_suggestable(session=session)[0].entry.learned_phrasings == []


def test_nobody_accepts_a_phrasing_they_proposed(session, users) -> None:
    v = approved_entry(session, users)
    mine = phrasings.propose(session=session, actor=users["approver"], entry_id=v.entry_id, text="bill too high?")
    with pytest.raises(PermissionDenied):
        phrasings.accept(session=session, actor=users["approver"], phrasing_id=mine.id)
    assert session.get(Phrasing, mine.id).status == "candidate"
    phrasings.accept(session=session, actor=users["approver2"], phrasing_id=mine.id)
    with pytest.raises(Conflict):
        phrasings.accept(session=session, actor=users["approver2"], phrasing_id=mine.id)


def test_editors_and_agents_cannot_decide(session, users) -> None:
    v = approved_entry(session, users)
    candidate = phrasings.propose(session=session, actor=users["editor"], entry_id=v.entry_id, text="pay how")
    for role in ("editor", "agent"):
        with pytest.raises(PermissionDenied):
            phrasings.accept(session=session, actor=users[role], phrasing_id=candidate.id)
    with pytest.raises(PermissionDenied):
        phrasings.propose(session=session, actor=users["agent"], entry_id=v.entry_id, text="another")


def test_proposals_are_checked(session, users) -> None:
    v = approved_entry(session, users)
    with pytest.raises(ValidationFailed):
        phrasings.propose(session=session, actor=users["editor"], entry_id=v.entry_id, text="   ")
    with pytest.raises(ValidationFailed):
        phrasings.propose(session=session, actor=users["editor"], entry_id=v.entry_id, text="x" * 1001)
    with pytest.raises(ValidationFailed):
        phrasings.propose(session=session, actor=users["editor"], entry_id=v.entry_id, text=v.question.upper())
    phrasings.propose(session=session, actor=users["editor"], entry_id=v.entry_id, text="modem\x00 dead")
    with pytest.raises(Conflict):
        phrasings.propose(session=session, actor=users["editor2"], entry_id=v.entry_id, text="MODEM dead")
    assert session.scalar(select(Phrasing.text)) == "modem dead"


def test_two_approvers_deciding_at_once_make_one_decision(app, session, users, monkeypatch) -> None:
    v = approved_entry(session, users)
    candidate = phrasings.propose(session=session, actor=users["editor"], entry_id=v.entry_id, text="wifi gone")
    before = storage.generation(session)
    # Both have read the candidate before either writes (SQLite reads take no lock); where the read locks the row
    # (PostgreSQL), the second waits for the first instead and the barrier gives up.
    barrier = threading.Barrier(2, timeout=2)
    audit_record = phrasings.record

    def record_after_both_read(*args, **kwargs):
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            pass
        return audit_record(*args, **kwargs)

    monkeypatch.setattr(phrasings, "record", record_after_both_read)
    outcomes: list[str] = []

    def accept(username: str) -> None:
        s = storage.database(app).sessions()
        try:
            phrasings.accept(session=s, actor=s.get(User, users[username].id), phrasing_id=candidate.id)
            outcomes.append("accepted")
        except Conflict:
            outcomes.append("conflict")
        finally:
            s.close()

    threads = [threading.Thread(target=accept, args=(name,)) for name in ("approver", "approver2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["accepted", "conflict"]
    assert len(session.scalars(select(AuditEvent).where(AuditEvent.action == "phrasing_accept")).all()) == 1
    assert storage.generation(session) == before + 1


def test_invisible_marks_do_not_make_a_second_wording(session, users) -> None:
    v = approved_entry(session, users)
    # Chat apps and Hebrew keyboards add direction marks and zero-width spaces nobody sees.
    _pick(session, v.entry_id, "\u200fכמה עולה\u200f המסלול?")
    _pick(session, v.entry_id, "כמה עולה המסלול?\ufeff")
    _pick(session, v.entry_id, "\u202eכמה עולה\u202c המסלול\u200b?")
    [candidate] = session.scalars(select(Phrasing)).all()
    assert (candidate.text, candidate.times_picked) == ("כמה עולה המסלול?", 3)
    with pytest.raises(ValidationFailed):
        phrasings.propose(session=session, actor=users["editor"], entry_id=v.entry_id, text="\u200f\u200b\u2067")


def test_one_inquiry_told_at_once_from_many_requests_counts_once(app, session, users) -> None:
    v = approved_entry(session, users)

    def pick(s: Session) -> None:
        phrasings.note_pick(session=s, entry_id=v.entry_id, text="wifi gone again", lang="en", rank=2,
                            inquiry_id=7, user_id=users["agent"].id)
        s.commit()

    assert _at_once(app, 4, pick) == []
    phrasings.note_pick(session=session, entry_id=v.entry_id, text="wifi gone again", lang="en", rank=2,
                        inquiry_id=8, user_id=None)
    session.commit()
    assert session.scalar(select(Phrasing.times_picked)) == 2
