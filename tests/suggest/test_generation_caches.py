"""Every question reads the KB generation, and what a suggestion shows is kept per generation: attacks on the
caches that keep it (stale sessions, threads catching the index up mid-question, midnight, superseded versions)."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select

from kb import owners, redflags, service, storage
from kb.errors import ValidationFailed
from kb.models import Category, Contact, RedFlagRule, User
from suggest import engine as engine_mod
from suggest.service import SuggestRequest, suggest
from tests.factories import approved_entry, make_draft

ROUTER = "How do I restart my router?"


def _ask(session, eng, question: str = ROUTER, today: dt.date | None = None, **kw):
    return suggest(session=session, engine=eng, request=SuggestRequest(question, include_low=True, **kw),
                   record=False, today=today)


def _ask_fresh(app, eng, question: str = ROUTER, **kw):
    """Ask as a request would: on a session of its own, opened for this question only."""
    with storage.database(app).session() as s:
        return _ask(s, eng, question, **kw)


def _billing(session) -> Category:
    return session.scalar(select(Category).where(Category.slug == "billing"))


def test_a_session_holding_older_objects_does_not_keep_a_stale_route_for_the_worker(app, session, users) -> None:
    """A long-lived session (CLI, evaluation, a test) already holds the category, its department and contacts in its
    identity map (expire_on_commit=False). After another session changes the category's owner, that session reads
    the new generation; what it fills the worker's copy with must be the database's state, not its old objects, or
    every fresh request would show the old department for the whole generation."""
    eng = engine_mod.engine(app)
    approved_entry(session, users, category="billing")
    with storage.database(app).session() as long_lived:
        listed = owners.list_categories(session=long_lived)  # e.g. a CLI or an evaluation that listed them
        before = _ask(long_lived, eng)
        assert before.suggestions[0].route.department == "Customer service"
        with storage.database(app).session() as admin:
            category = _billing(admin)
            owners.update_category(session=admin, slug="billing", first_response_minutes=5, resolution_minutes=60,
                                   department="sales", routed=True, row_version=category.row_version)
        _ask(long_lived, eng, "router restart please")  # reads the new generation, fills the worker's copy
        assert listed  # the session kept its objects until here
    fresh = _ask_fresh(app, eng)
    route = fresh.suggestions[0].route
    assert (route.department, route.sla.first_response_minutes) == ("Sales", 5)


def test_a_removed_contact_is_not_kept_by_a_long_lived_session_filling_the_cache(app, session, users) -> None:
    """Same attack through the department's contacts: a contact removed elsewhere must not stay on every suggestion
    this worker serves for the whole generation."""
    eng = engine_mod.engine(app)
    owners.add_contact(session=session, department="customer-service", name="Dana", email="dana@example.com")
    approved_entry(session, users, category="billing")
    with storage.database(app).session() as long_lived:
        assert [c["name"] for c in _ask(long_lived, eng).suggestions[0].route.contacts] == ["Dana"]
        with storage.database(app).session() as admin:
            dana = admin.scalar(select(Contact).where(Contact.name == "Dana"))
            owners.remove_contact(session=admin, contact_id=dana.id)
        _ask(long_lived, eng, "router restart please")
    assert _ask_fresh(app, eng).suggestions[0].route.contacts == []


def test_a_version_past_its_review_by_date_leaves_suggestions_the_next_day(app, session, users) -> None:
    """Review-by dates expire by the calendar, not by a KB change: the worker's copy of a version must not keep
    serving it after its date, though the generation has not moved."""
    day = dt.date(2031, 1, 1)
    eng = engine_mod.engine(app)
    eng._cache_size = 0
    approved_entry(session, users, review_by=day)
    generation = storage.generation(session)
    assert _ask(session, eng, today=day).suggestions
    later = _ask(session, eng, today=day + dt.timedelta(days=1))
    assert later.suggestions == [] and later.outcome == "no_match"
    assert storage.generation(session) == generation == eng.generation


def test_opening_a_draft_that_changes_nothing_shown_leaves_the_generation(app, session, users) -> None:
    """A served entry moves the generation only when what a suggestion shows of it changes: a new draft (its
    versions grow) with the same category must not drop every worker's caches."""
    v = approved_entry(session, users)
    before = storage.generation(session)
    service.edit(session=session, actor=users["editor"], entry_id=v.entry_id, base_version_id=v.id,
                 base_row_version=v.row_version, draft=make_draft(answer="A new wording, not served yet."))
    assert storage.generation(session) == before


def test_a_department_change_reaches_the_next_request(app, session, users) -> None:
    eng = engine_mod.engine(app)
    approved_entry(session, users, category="billing")
    assert _ask_fresh(app, eng).suggestions[0].route.department == "Customer service"
    category = _billing(session)
    owners.update_category(session=session, slug="billing", first_response_minutes=5, resolution_minutes=60,
                           department="sales", routed=True, row_version=category.row_version)
    route = _ask_fresh(app, eng).suggestions[0].route
    assert (route.department, route.sla.first_response_minutes) == ("Sales", 5)


def test_unrouting_a_category_drops_the_route_and_the_owed_department(app, session, users) -> None:
    eng = engine_mod.engine(app)
    approved_entry(session, users, category="billing")
    assert _ask_fresh(app, eng).suggestions[0].department_id is not None
    category = _billing(session)
    owners.update_category(session=session, slug="billing", first_response_minutes=30, resolution_minutes=60,
                           department="customer-service", routed=False, row_version=category.row_version)
    shown = _ask_fresh(app, eng).suggestions[0]
    assert shown.route is None and shown.department_id is None


def test_contacts_added_and_removed_reach_the_next_request(app, session, users) -> None:
    eng = engine_mod.engine(app)
    approved_entry(session, users, category="billing")
    assert _ask_fresh(app, eng).suggestions[0].route.contacts == []
    contact = owners.add_contact(session=session, department="customer-service", name="Dana")
    assert [c["name"] for c in _ask_fresh(app, eng).suggestions[0].route.contacts] == ["Dana"]
    owners.set_on_call(session=session, contact_id=contact.id, on_call=True)
    assert _ask_fresh(app, eng).suggestions[0].route.contacts[0]["on_call"] is True
    owners.remove_contact(session=session, contact_id=contact.id)
    assert _ask_fresh(app, eng).suggestions[0].route.contacts == []


def test_a_superseded_version_is_never_shown_from_either_cache(app, session, users) -> None:
    eng = engine_mod.engine(app)
    v1 = approved_entry(session, users)
    assert _ask_fresh(app, eng).suggestions[0].version == 1  # answer cache and shown cache now hold version 1
    v2 = service.edit(session=session, actor=users["editor"], entry_id=v1.entry_id, base_version_id=v1.id,
                      base_row_version=v1.row_version, draft=make_draft(answer="Hold the reset button."))
    service.submit(session=session, actor=users["editor"], version_id=v2.id)
    service.approve(session=session, actor=users["approver2"], version_id=v2.id)
    shown = _ask_fresh(app, eng).suggestions
    assert [(s.version, s.answer, s.approved_by) for s in shown] == [(2, "Hold the reset button.", "Second Approver")]


def test_an_answer_expires_at_midnight_even_when_both_caches_hold_it(app, session, users) -> None:
    eng = engine_mod.engine(app)
    last_day = dt.date(2031, 3, 1)
    approved_entry(session, users, review_by=last_day)
    assert _ask(session, eng, today=last_day).suggestions  # cached for that day
    assert _ask(session, eng, today=last_day).suggestions
    late = _ask(session, eng, today=last_day + dt.timedelta(days=1))
    assert late.suggestions == [] and late.outcome == "no_match"


def test_channel_variants_are_shown_per_question_and_not_leaked_between_channels(app, session, users) -> None:
    eng = engine_mod.engine(app)
    approved_entry(session, users, variants={"x": "Short: unplug 30s."})
    on_x = _ask(session, eng, channel="twitter")
    on_web = _ask(session, eng, "router restart please", channel="web")
    assert (on_x.suggestions[0].channel, on_x.suggestions[0].answer) == ("x", "Short: unplug 30s.")
    assert (on_web.suggestions[0].channel, on_web.suggestions[0].answer) == ("web", make_draft().answer)
    with pytest.raises(ValidationFailed):
        _ask(session, eng, channel="__class__")


def test_a_cached_suggestion_is_not_mutated_by_the_next_question(app, session, users) -> None:
    eng = engine_mod.engine(app)
    approved_entry(session, users, category="billing")
    first = _ask(session, eng).suggestions[0]
    _ask(session, eng, "router restart please", channel="x")
    again = _ask(session, eng, "reboot the modem").suggestions[0]
    assert first.channel == "web" and first.route == again.route and first.answer == again.answer


def test_a_retirement_is_seen_by_every_thread_asking_after_it_commits(app, session, users) -> None:
    eng = engine_mod.engine(app)
    v = approved_entry(session, users)
    assert _ask_fresh(app, eng).suggestions
    retired = threading.Event()
    served_after: list[int] = []
    errors: list[BaseException] = []

    def ask_repeatedly() -> None:
        try:
            for _ in range(30):
                was_retired = retired.is_set()  # read before the question starts
                result = _ask_fresh(app, eng)
                if was_retired and result.suggestions:
                    served_after.append(result.suggestions[0].version)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=ask_repeatedly) for _ in range(4)]
    for t in threads:
        t.start()
    service.retire(session=session, actor=users["approver"], entry_id=v.entry_id, reason="Offer over.")
    retired.set()
    for t in threads:
        t.join()
    assert errors == [] and served_after == []


def test_a_question_behind_the_index_neither_fills_nor_steps_back(app, session, users) -> None:
    eng = engine_mod.engine(app)
    approved_entry(session, users)
    held = eng.sync(session)
    eng.generation = held + 1  # another thread caught up with a change this question did not see
    assert _ask(session, eng).suggestions
    assert eng.generation == held + 1
    assert eng._derived.get("shown", (None,))[0] != held  # nothing kept for the older generation


def test_crises_read_before_the_index_moved_are_not_kept_for_the_new_generation(app, session, users,
                                                                                monkeypatch) -> None:
    """One request at generation g loads the department and its contacts; a contact is removed and another thread
    catches the index up to g+1; the same request then builds the crises from its session, whose identity map hands
    back the department with its old contacts. That must not be kept under g+1, or every later crisis escalation in
    this worker would name the removed contact."""
    from kb import crises
    from suggest.escalation import screen

    eng = engine_mod.engine(app)
    owners.add_contact(session=session, department="customer-service", name="Dana")
    approved_entry(session, users, category="billing")
    crises.start(session=session, actor=users["approver"], name="Outage", holding_statement="We know; fixing it.",
                 category="billing", department="customer-service")
    original = screen.crisis_for
    interleaved: list[bool] = []

    def crisis_for(s, e, *args, **kwargs):
        if not interleaved:  # between this request's matching and its crisis check
            interleaved.append(True)
            with storage.database(app).session() as admin:
                dana = admin.scalar(select(Contact).where(Contact.name == "Dana"))
                owners.remove_contact(session=admin, contact_id=dana.id)
            with storage.database(app).session() as other:
                eng.sync(other)  # another thread's question, or the LISTEN watcher
        return original(s, e, *args, **kwargs)

    monkeypatch.setattr(screen, "crisis_for", crisis_for)
    first = _ask_fresh(app, eng)
    assert first.outcome == "escalate" and interleaved
    later = _ask_fresh(app, eng, "router restart please")
    assert later.outcome == "escalate"
    assert [c["name"] for c in later.escalation.contacts] == []


LAWYER = "My lawyer will send you a letter"


def test_a_long_lived_session_does_not_keep_a_red_flag_rules_old_contacts(app, session, users) -> None:
    """The red-flag rules are kept per generation too: the session that first reads a new generation must read the
    rules' departments and contacts as they are now, not as it loaded them before."""
    eng = engine_mod.engine(app)
    first = _ask_fresh(app, eng, LAWYER)
    assert first.outcome == "escalate"
    slug = session.get(RedFlagRule, first.escalation.rule_id).department.slug
    owners.add_contact(session=session, department=slug, name="Dana", email="dana@example.com")
    with storage.database(app).session() as long_lived:
        assert "Dana" in [c["name"] for c in _ask(long_lived, eng, LAWYER).escalation.contacts]
        with storage.database(app).session() as admin:
            dana = admin.scalar(select(Contact).where(Contact.name == "Dana"))
            owners.remove_contact(session=admin, contact_id=dana.id)
        _ask(long_lived, eng, "my attorney will write to you")  # the first to read the new generation
    assert "Dana" not in [c["name"] for c in _ask_fresh(app, eng, LAWYER).escalation.contacts]


def test_a_long_lived_session_does_not_keep_a_red_flag_rules_old_keywords(app, session, users) -> None:
    eng = engine_mod.engine(app)
    rule = redflags.save_rule(session=session, actor=users["approver"], rule_id=None, row_version=None, kind="custom",
                              name="Pets", lang="en", keywords=["gerbil ate"], patterns=[], department="legal",
                              holding_statement="One.", severity=3, active=True)
    with storage.database(app).session() as long_lived:
        assert _ask(long_lived, eng, "the gerbil ate the wire").outcome == "escalate"  # loads the rule
        with storage.database(app).session() as admin:
            redflags.save_rule(session=admin, actor=admin.get(User, users["approver"].id), rule_id=rule.id,
                               row_version=admin.get(RedFlagRule, rule.id).row_version, kind="custom", name="Pets",
                               lang="en", keywords=["hamster bit"], patterns=[], department="legal",
                               holding_statement="One.", severity=3, active=True)
        _ask(long_lived, eng, "something else entirely")  # the first to read the new generation
    assert _ask_fresh(app, eng, "the hamster bit the wire").outcome == "escalate"
    assert _ask_fresh(app, eng, "the gerbil ate the wire").outcome != "escalate"


def test_screenings_leave_the_answer_cache_its_whole_room(app, session, users, monkeypatch) -> None:
    eng = engine_mod.engine(app)
    approved_entry(session, users)
    questions = [f"how do I restart router number {i}" for i in range(40)]  # fewer than the cache's 64
    for question in questions:
        _ask_fresh(app, eng, question)
    retrieved = []
    real = eng.retrieve
    monkeypatch.setattr(eng, "retrieve", lambda *a, **k: retrieved.append(a[0]) or real(*a, **k))
    for question in questions:
        _ask_fresh(app, eng, question)
    assert retrieved == []
