"""Crisis mode, red-flag rule editing, response-time tracking and spike detection, end to end."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from kb import crises, redflags
from kb.errors import PermissionDenied, ValidationFailed
from kb.models import AuditEvent, Delivery, Inquiry, utcnow
from suggest import engine as engine_mod
from suggest.escalation import response_times as sla
from suggest.escalation import spikes
from suggest.service import SuggestRequest, suggest
from tests.factories import approved_entry


@pytest.fixture
def billing(session, users):
    return approved_entry(session, users, question="Why is my bill higher this month?",
                          answer="Promotions end; see Billing in the app.", alternates=[], category="billing")


def _ask(app, session, text: str, **kw):
    return suggest(session=session, engine=engine_mod.engine(app), request=SuggestRequest(text, **kw))


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


def test_escalations_queue_notifications_for_the_department(app, session, users) -> None:
    from suggest.escalation import notify

    notify.add_notifier(session=session, department="legal", kind="webhook", target="http://127.0.0.1:9/hook",
                        secret="s")
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


def test_routed_answers_and_escalations_owe_a_response_in_time(app, session, users, billing) -> None:
    routed = _ask(app, session, "why is my bill higher")
    escalated = _ask(app, session, "I'm calling my lawyer")
    owed = sla.owed(session=session)
    assert {i.id for i in owed} == {routed.inquiry_id, escalated.inquiry_id}
    routed_inquiry = session.get(Inquiry, routed.inquiry_id)
    assert (routed_inquiry.resolution_due - routed_inquiry.created_at) == dt.timedelta(minutes=24 * 60)
    later = utcnow() + dt.timedelta(days=2)
    assert {i.id for i in sla.owed(session=session, now=later, overdue_only=True)} == {routed.inquiry_id,
                                                                                       escalated.inquiry_id}
    sla.resolve(session=session, inquiry_id=escalated.inquiry_id, user=users["admin"])
    report = {r.department: r for r in sla.report(session=session, since=utcnow() - dt.timedelta(days=1),
                                                  now=later)}
    assert (report["Legal"].met, report["Legal"].missed) == (1, 0)
    assert report["Legal"].median_minutes is not None
    assert (report["Customer service"].missed, report["Customer service"].open) == (1, 0)


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


def test_spike_rule() -> None:
    s = spikes.SpikeSettings(min_count=10, factor=3)
    assert not spikes.is_spike(9, 0.0, s)
    assert spikes.is_spike(10, 0.0, s)
    assert not spikes.is_spike(20, 5.0, s)  # 3 * 5 + 3 * sqrt(5) = 21.7
    assert spikes.is_spike(42, 5.0, s)
