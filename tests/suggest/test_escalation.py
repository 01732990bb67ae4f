"""Crisis mode, red-flag rule editing, response-time tracking and spike detection, end to end."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from kb import crises, redflags, storage
from kb.errors import NotFound, PermissionDenied, ValidationFailed
from kb.models import Alert, AuditEvent, Delivery, Inquiry, utcnow
from suggest import engine as engine_mod
from suggest import inquiries
from suggest.escalation import response_times as sla
from suggest.escalation import spikes
from suggest.service import SuggestRequest, suggest
from tests.factories import approved_entry


@pytest.fixture
def billing(session, users):
    return approved_entry(session, users, question="Why is my bill higher this month?",
                          answer="Promotions end; see Billing in the app.", alternates=[], category="billing")


def _ask(app, session, text: str, user_id: int | None = None, **kw):
    return suggest(session=session, engine=engine_mod.engine(app), request=SuggestRequest(text, **kw),
                   user_id=user_id)


def test_crisis_mode_overrides_library_answers_until_it_ends(app, session, users, billing) -> None:
    assert _ask(app, session, "why is my bill higher").outcome == "answer"
    with pytest.raises(PermissionDenied):
        crises.start(session=session, actor=users["editor"], name="Billing error", holding_statement="We know.",
                     category="billing")
    c = crises.start(session=session, actor=users["approver"], name="Billing error",
                     holding_statement="We are aware of a billing error and will refund everyone affected.",
                     category="billing")
    result = _ask(app, session, "why is my bill higher")
    assert result.outcome == "escalate" and result.suggestions == []
    assert result.escalation.kind == "crisis" and result.escalation.holding_statement.startswith("We are aware")
    assert "_department_id" not in result.as_json()["escalation"]
    inquiry = session.get(Inquiry, result.inquiry_id)
    assert inquiry.crisis_id == c.id and inquiry.department_id is not None
    assert _ask(app, session, "how do I restart my router").outcome != "escalate"  # other topics unaffected
    crises.end(session=session, actor=users["approver"], crisis_id=c.id)
    assert _ask(app, session, "why is my bill higher").outcome == "answer"
    actions = [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions[-2:] == ["crisis_start", "crisis_end"]


def test_crisis_by_pattern_and_validation(app, session, users, billing) -> None:
    with pytest.raises(ValidationFailed, match="say what the crisis covers"):
        crises.start(session=session, actor=users["approver"], name="x", holding_statement="y")
    with pytest.raises(ValidationFailed, match="not a valid regular expression"):
        crises.start(session=session, actor=users["approver"], name="x", holding_statement="y", pattern="(oops")
    crises.start(session=session, actor=users["approver"], name="Outage in Haifa", holding_statement="Crews are on it.",
                 pattern=r"חיפה|haifa")
    assert _ask(app, session, "אין אינטרנט בחיפה").escalation.kind == "crisis"
    assert _ask(app, session, "No internet in Haifa since morning").escalation.kind == "crisis"


def test_a_message_is_screened_once_per_kb_generation(app, session, users, monkeypatch) -> None:
    from suggest.escalation import detect

    read = []
    real = detect.detect_all
    monkeypatch.setattr(detect, "detect_all", lambda text, rules: read.append(text) or real(text, rules))
    for _ in range(3):
        assert _ask(app, session, "the hamster chewed the cable").outcome != "escalate"
    assert len(read) == 1
    redflags.save_rule(session=session, actor=users["approver"], rule_id=None, row_version=None, kind="safety",
                       name="Pets", lang="en", keywords=["hamster chewed"], patterns=[], department=None,
                       holding_statement="Stay safe.", severity=3, active=True)
    assert _ask(app, session, "the hamster chewed the cable").outcome == "escalate"
    assert len(read) == 2


def test_escalations_queue_notifications_for_the_department(app, session, users) -> None:
    from suggest.escalation import notify

    notify.add_notifier(session=session, actor=users["approver"], department="legal", kind="webhook",
                        target="http://127.0.0.1:9/hook", secret="s",
                        policy=notify.TargetPolicy.from_config(app.config))
    result = _ask(app, session, "My lawyer will send you a letter")
    assert result.outcome == "escalate"
    deliveries = session.scalars(select(Delivery).order_by(Delivery.id)).all()
    assert [(d.kind, d.status) for d in deliveries] == [("inapp", "sent"), ("webhook", "pending")]
    assert deliveries[1].payload["inquiry_id"] == result.inquiry_id
    assert deliveries[1].payload["first_response_due"].endswith("Z")


def test_edited_rules_apply_to_the_next_question(app, session, users) -> None:
    assert _ask(app, session, "the rabbit ate the cable").outcome != "escalate"
    with pytest.raises(PermissionDenied):
        redflags.save_rule(session=session, actor=users["editor"], rule_id=None, row_version=None, kind="safety",
                        name="Animals", lang="en", keywords=["rabbit ate the cable"], patterns=[], department=None,
                        holding_statement="Stay safe.", severity=3, active=True)
    with pytest.raises(ValidationFailed, match="not a valid regular expression"):
        redflags.save_rule(session=session, actor=users["approver"], rule_id=None, row_version=None, kind="safety",
                        name="Bad", lang="en", keywords=[], patterns=["(x"], department=None,
                        holding_statement="h", severity=3, active=True)
    session.rollback()
    rule = redflags.save_rule(session=session, actor=users["approver"], rule_id=None, row_version=None, kind="safety",
                           name="Animals", lang="en", keywords=["rabbit ate the cable"], patterns=[],
                           department="technical-support", holding_statement="Stay safe.", severity=3, active=True)
    result = _ask(app, session, "the rabbit ate the cable")
    assert result.outcome == "escalate" and result.escalation.rule_id == rule.id
    redflags.save_rule(session=session, actor=users["approver"], rule_id=rule.id, row_version=rule.row_version,
                    kind="safety", name="Animals", lang="en", keywords=["rabbit ate the cable"], patterns=[],
                    department=None, holding_statement="Stay safe.", severity=3, active=False)
    assert _ask(app, session, "the rabbit ate the cable").outcome != "escalate"


def test_only_handed_over_conversations_are_owed(app, session, users, billing) -> None:
    """A routine answer, even in a routed category, is not owed; an escalation, a question sent to PR and an
    agent's hand-off are, each with the department's clocks."""
    agent = users["agent"].id
    routine = _ask(app, session, "why is my bill higher", user_id=agent)
    escalated = _ask(app, session, "I'm calling my lawyer", user_id=agent)
    unanswered = _ask(app, session, "do you sell garden furniture", user_id=agent)
    assert routine.outcome == "answer" and unanswered.outcome == "no_match"
    assert {i.id for i in sla.owed(session=session)} == {escalated.inquiry_id}
    inquiries.send_to_pr(session=session, inquiry_id=unanswered.inquiry_id, user_id=agent)
    lead = _ask(app, session, "I want to add three lines for my company", user_id=agent)
    inquiries.hand_off(session=session, inquiry_id=lead.inquiry_id, department="sales", reason="sales_lead",
                       user_id=agent)
    owed = {i.id: i for i in sla.owed(session=session)}
    assert set(owed) == {escalated.inquiry_id, unanswered.inquiry_id, lead.inquiry_id}
    assert (owed[unanswered.inquiry_id].handoff, owed[lead.inquiry_id].handoff) == ("no_match", "sales_lead")
    assert session.get(Inquiry, routine.inquiry_id).department_id is None
    with pytest.raises(ValidationFailed, match="handed over already"):
        inquiries.hand_off(session=session, inquiry_id=lead.inquiry_id, department="sales", reason="other",
                           user_id=agent)
    later = utcnow() + dt.timedelta(days=2)
    assert {i.id for i in sla.owed(session=session, now=later, overdue_only=True)} == set(owed)
    sla.take(session=session, inquiry_id=escalated.inquiry_id, user=users["admin"])
    sla.resolve(session=session, inquiry_id=escalated.inquiry_id, user=users["admin"])
    report = {r.department: r for r in sla.report(session=session, since=utcnow() - dt.timedelta(days=1),
                                                  now=later)}
    assert (report["Legal"].met, report["Legal"].missed, report["Legal"].taken_in_time) == (1, 0, 1)
    assert (report["Sales"].missed, report["Sales"].open, report["Sales"].taken_late) == (1, 0, 1)
    with pytest.raises(NotFound):
        sla.resolve(session=session, inquiry_id=routine.inquiry_id, user=users["admin"])


def test_an_answered_question_is_recorded_whole_and_counted_again_when_repeated(app, session, users,
                                                                              billing) -> None:
    """A routine question is written with one INSERT and a repeat with one UPDATE: every field the record keeps
    must be there, and the same agent asking it again counts on the same row, even in a session holding it."""
    agent = users["agent"].id
    first = _ask(app, session, "Why is my bill higher this month?", user_id=agent)
    assert first.outcome == "answer"
    inquiry = session.get(Inquiry, first.inquiry_id)
    assert (inquiry.text, inquiry.lang, inquiry.channel, inquiry.outcome, inquiry.user_id, inquiry.asked_count) == (
        "Why is my bill higher this month?", "en", "web", "answer", agent, 1)
    assert inquiry.top_entry_id == billing.entry_id and inquiry.suggested_entry_ids == [billing.entry_id]
    assert inquiry.top_score == first.suggestions[0].score and inquiry.took_ms > 0
    minutes = first.suggestions[0].route.sla.first_response_minutes
    assert inquiry.first_response_due - inquiry.created_at == dt.timedelta(minutes=minutes)
    assert inquiry.handoff is None and inquiry.text_key and inquiry.last_asked_at == inquiry.created_at
    again = _ask(app, session, "Why is my bill higher this month?", user_id=agent, channel="x")
    inquiry = session.get(Inquiry, first.inquiry_id)  # the session held the row: it must not serve the old count
    assert again.inquiry_id == first.inquiry_id and (inquiry.asked_count, inquiry.channel) == (2, "x")


def test_the_same_message_asked_again_is_one_inquiry(app, session, users, billing) -> None:
    agent = users["agent"].id
    first = _ask(app, session, "I'm calling my lawyer", user_id=agent)
    again = _ask(app, session, "I'm calling my lawyer", user_id=agent, channel="x")
    other_agent = _ask(app, session, "I'm calling my lawyer", user_id=users["editor"].id)
    assert first.inquiry_id == again.inquiry_id != other_agent.inquiry_id
    inquiry = session.get(Inquiry, first.inquiry_id)
    assert inquiry.asked_count == 2 and inquiry.channel == "x"
    told = session.scalars(select(Delivery).where(Delivery.kind == "inapp")).all()
    assert len(told) == 2  # one escalation notice per inquiry, not per search
    later = suggest(session=session, engine=engine_mod.engine(app), request=SuggestRequest("I'm calling my lawyer"),
                    user_id=agent, repeat_window=dt.timedelta(0))
    assert later.inquiry_id != first.inquiry_id


def test_the_agencys_clock_starts_at_the_question_and_stops_at_the_first_reply(app, session, users, billing):
    agent = users["agent"].id
    answered = _ask(app, session, "why is my bill higher", user_id=agent)
    inquiries.record_feedback(session=session, inquiry_id=answered.inquiry_id, entry_id=billing.entry_id,
                              version=1, action="copied", user_id=agent)
    inquiries.record_feedback(session=session, inquiry_id=answered.inquiry_id, entry_id=billing.entry_id,
                              version=1, action="used", user_id=agent)
    _ask(app, session, "why is my bill higher than last month", user_id=agent)
    later = utcnow() + dt.timedelta(days=1)
    reps = {r.rep: r for r in sla.rep_report(session=session, since=utcnow() - dt.timedelta(days=1), now=later)}
    assert (reps["Agent"].asked, reps["Agent"].replied_in_time, reps["Agent"].replied_late) == (2, 1, 1)
    assert session.get(Inquiry, answered.inquiry_id).feedback == "used"


def test_spikes_raise_one_alert_with_the_usual_rate(session, billing) -> None:
    now = utcnow()
    for day in range(1, 8):  # about one question an hour, each of the last seven days at this time
        for hour in range(0, 24, 4):
            session.add(Inquiry(text="bill?", lang="en", outcome="answer", top_entry_id=billing.entry_id,
                                created_at=now - dt.timedelta(days=day, hours=hour)))
    for minute in range(0, 60, 2):  # thirty in the last hour
        session.add(Inquiry(text="why is the bill so high", lang="en", outcome="answer",
                            top_entry_id=billing.entry_id, created_at=now - dt.timedelta(minutes=minute)))
    for minute in range(12):  # and twelve unanswered questions about the same new thing
        session.add(Inquiry(text="is the new Galim TV box supporting Netflix", lang="en", outcome="no_match",
                            created_at=now - dt.timedelta(minutes=minute * 3)))
    session.commit()
    alerts = spikes.detect(session=session, now=now)
    messages = sorted(a.message for a in alerts)
    assert len(alerts) == 2
    assert messages[0].startswith("12 questions about “is the new Galim TV box supporting Netflix”")
    assert messages[1] == "30 questions about billing and payments in the last hour, usually 0"
    assert spikes.detect(session=session, now=now + dt.timedelta(minutes=5)) == []  # once per window
    assert session.scalar(select(Delivery.subject).where(Delivery.kind == "inapp")).endswith("usually 0")
    named = spikes.questions(session=session, alert=next(a for a in alerts if a.key.startswith("cluster:")))
    assert len(named) == 12 and {q.text for q in named} == {"is the new Galim TV box supporting Netflix"}


def test_no_spike_before_there_is_a_usual_rate(session, billing) -> None:
    """A new installation's first busy hour is not a spike: there is no history to compare it with."""
    now = utcnow()
    for minute in range(0, 60, 2):
        session.add(Inquiry(text="why is the bill so high", lang="en", outcome="answer",
                            top_entry_id=billing.entry_id, created_at=now - dt.timedelta(minutes=minute)))
    session.commit()
    assert spikes.detect(session=session, now=now) == []


def test_two_workers_looking_at_once_raise_one_alert(app, session, billing) -> None:
    """Each worker's background loop looks for spikes; two at the same moment must not both alert."""
    now = utcnow()
    session.add(Inquiry(text="old", lang="en", outcome="answer", created_at=now - dt.timedelta(days=5)))
    for minute in range(0, 60, 2):
        session.add(Inquiry(text="why is the bill so high", lang="en", outcome="answer",
                            top_entry_id=billing.entry_id, created_at=now - dt.timedelta(minutes=minute)))
    session.commit()
    results = []
    barrier = threading.Barrier(2)

    def look() -> None:
        with storage.database(app).session() as own:
            barrier.wait()
            results.append(len(spikes.detect(session=own, now=now)))

    threads = [threading.Thread(target=look) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0, 1] and session.scalar(select(func.count(Alert.id))) == 1


def test_spike_rule() -> None:
    s = spikes.SpikeSettings(min_count=10, factor=3)
    assert not spikes.is_spike(9, 0.0, s)
    assert spikes.is_spike(10, 0.0, s)
    assert not spikes.is_spike(20, 5.0, s)  # 3 * 5 + 3 * sqrt(5) = 21.7
    assert spikes.is_spike(42, 5.0, s)
