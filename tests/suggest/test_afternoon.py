"""A scripted afternoon of an agency on the pages: only what is handed over is owed, and alerts mean something."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from kb import accounts, crises, demo
from kb.demo_data import ENGLISH, HEBREW
from kb.models import Alert, Delivery, Inquiry, utcnow
from suggest import engine as engine_mod
from suggest.escalation import response_times, spikes
from suggest.results import SuggestRequest
from suggest.service import suggest

CHANNELS = ("web", "facebook", "x")
RED_FLAGS = [  # the message, and the kinds it carries
    ("My lawyer will be in touch about this bill", {"legal"}),
    ("I am a journalist writing about your outages", {"press"}),
    ("There is smoke coming out of the router", {"safety"}),
    ("Someone else's bills show up in my account, my data leaked", {"privacy"}),
    ("אני מעביר את זה לעורך הדין שלי", {"legal"}),
    ("כולם להחרים את החברה עד שיפסיקו עם זה", {"protest"}),
    ("Honestly I want to end my life, nothing works", {"self_harm"}),
    ("I'm going to sue you and talk to the press about it", {"legal", "press"}),
    ("My lawyer says the router that caught fire is your fault", {"legal", "safety"}),
    ("אני אתבע אתכם ואפנה לתקשורת", {"legal", "press"}),
]


def _routine_questions() -> list[tuple[str, str]]:
    """Forty routine questions (the demo's own questions and phrasings), in English and Hebrew."""
    out = []
    for rows in (ENGLISH, HEBREW):
        for _ext, _cat, question, alternates, _answer, _variants in rows[:20]:
            out.append((alternates[0] if alternates else question, "en" if rows is ENGLISH else "he"))
    return out


def test_an_afternoon_leaves_exactly_the_owed_items_and_alerts_it_should(app, session, users) -> None:
    demo.load(session=session)
    eng = engine_mod.engine(app)
    agent = users["agent"]
    now = utcnow()
    # A week of ordinary traffic gives the spike watch its usual rate.
    for day in range(1, 6):
        for n in range(12):
            session.add(Inquiry(text=f"history {day} {n}", lang="en", outcome="answer", source="page",
                                created_at=now - dt.timedelta(days=day, minutes=n * 7)))
    session.commit()

    def ask(text: str, channel: str = "web", user_id: int | None = agent.id):  # noqa: ANN202
        return suggest(session=session, engine=eng, request=SuggestRequest(text, channel=channel), source="page",
                       user_id=user_id)

    # 200 routine questions: forty messages, each asked five times by the same agent, changing channel.
    routine = _routine_questions()
    assert len(routine) == 40
    outcomes = set()
    for text, _lang in routine:
        ids = {ask(text, channel=CHANNELS[i % 3]).inquiry_id for i in range(5)}
        assert len(ids) == 1, text  # re-searching the same message is one inquiry
        outcomes.add((session.get(Inquiry, ids.pop()).outcome, text))
    assert [t for o, t in outcomes if o == "escalate"] == []
    # Ten red flags (three carry two kinds), each searched twice.
    flagged = {}
    for text, kinds in RED_FLAGS:
        first, second = ask(text), ask(text, channel="facebook")
        assert first.outcome == "escalate" and first.inquiry_id == second.inquiry_id, text
        assert set(first.escalation.kinds) == kinds, text
        flagged[first.inquiry_id] = kinds
    # One crisis: an outage in Haifa, and three agents asking about it.
    crises.start(session=session, actor=users["approver"], name="Haifa outage", pattern="haifa|חיפה",
                 holding_statement="Crews are working on the outage in Haifa.")
    crisis_ids = {ask("No internet in Haifa since the morning", user_id=u.id).inquiry_id
                  for u in (users["agent"], users["editor"], users["editor2"])}
    assert len(crisis_ids) == 3
    # Twelve different reps asking about the router at once is a spike; one agent asking twelve times is not.
    reps = [accounts.create_user(session=session, username=f"rep{i}", password="x" * 12, role="agent")
            for i in range(12)]
    for rep in reps:
        ask("How do I restart my router?", user_id=rep.id)

    owed = {i.id for i in response_times.owed(session=session)}
    assert owed == set(flagged) | crisis_ids
    assert session.scalar(select(func.count(Inquiry.id)).where(Inquiry.created_at >= now)) == 40 + 10 + 3 + 12
    told = session.scalars(select(Delivery).where(Delivery.kind == "inapp", Delivery.created_at >= now)).all()
    assert len(told) == len(flagged) + len(crisis_ids)  # one notice per escalated conversation
    alerts = spikes.detect(session=session, now=utcnow())
    again = spikes.detect(session=session, now=utcnow() + dt.timedelta(minutes=1))
    assert [a.message.split(" questions")[0] for a in alerts] == ["13"] and again == []
    assert session.scalar(select(func.count(Alert.id))) == 1
