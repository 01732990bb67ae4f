"""The record of every question asked, and what happens to it after: replied, handed over, taken, resolved."""
from __future__ import annotations

import datetime as dt
from typing import cast

from sqlalchemy import DateTime, Row, Select, Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from kb import owners, phrasings
from kb.errors import NotFound, ValidationFailed
from kb.models import ApiKey, Category, Inquiry, text_key, utcnow
from suggest.escalation import notify
from suggest.results import Escalation, Sla, SuggestRequest, SuggestResult

REPEAT_WINDOW = dt.timedelta(minutes=30)
FEEDBACK_ACTIONS = ("copied", "used", "edited", "not_helpful")
REPLIED = frozenset({"copied", "used", "edited"})  # the agent posted something on the page
HANDOFF_REASONS = ("sales_lead", "service_case", "other")
LEARN_FROM_RANK = 3  # an agent's pick of the 2nd or 3rd suggestion proposes the message as a phrasing
# Who takes a question nobody has an approved answer for, and under which category's response times.
PR_DEPARTMENT, PR_CATEGORY = "spokesperson", "general"
_INQUIRIES = cast(Table, Inquiry.__table__)
# The two statements of a question nothing is handed over for, built once: their values come with each call, so
# SQLAlchemy compiles each once per process and no clause is built per question.
_NEW = insert(_INQUIRIES).returning(_INQUIRIES.c.id)
_AGAIN = update(_INQUIRIES).where(_INQUIRIES.c.id == bindparam("repeat_id")).values(
    asked_count=func.coalesce(_INQUIRIES.c.asked_count, 1) + 1,
    first_response_due=func.coalesce(_INQUIRIES.c.first_response_due, bindparam("due", type_=DateTime)))


def _repeat_statement(asker: str) -> Select[tuple[int, str | None]]:
    c = _INQUIRIES.c
    return (select(c.id, c.handoff)
            .where(c[asker] == bindparam("asker"), c.text_key == bindparam("key"), c.created_at >= bindparam("since"),
                   c.text == bindparam("text"))
            .order_by(c.id.desc()).limit(1))


# The same message from the same agent (an API key, else a signed-in user) within the window, built once per asker.
_REPEAT = {"api_key_id": _repeat_statement("api_key_id"), "user_id": _repeat_statement("user_id")}


def _repeat_of(session: Session, request: SuggestRequest, key: str, user_id: int | None, api_key_id: int | None,
               since: dt.datetime) -> Row[tuple[int, str | None]] | None:
    """Return (id, hand-off) of the inquiry this same message from the same agent already made within the window."""
    if user_id is None and api_key_id is None:
        return None
    asker, who = ("api_key_id", api_key_id) if api_key_id is not None else ("user_id", user_id)
    return session.connection().execute(
        _REPEAT[asker], {"asker": who, "key": key, "since": since, "text": request.question}).first()


def _due(now: dt.datetime, sla: Sla | None, take_minutes: int | None) -> dict[str, dt.datetime | None]:
    if sla is None:
        return {"first_response_due": None, "take_due": None, "resolution_due": None}
    return {"first_response_due": now + dt.timedelta(minutes=sla.first_response_minutes),
            "take_due": now + dt.timedelta(minutes=take_minutes or sla.first_response_minutes),
            "resolution_due": now + dt.timedelta(minutes=sla.resolution_minutes)}


def record(
    session: Session, *, request: SuggestRequest, result: SuggestResult, source: str, user_id: int | None,
    api_key_id: int | None, rule_id: int | None, top_score: float | None, repeat_window: dt.timedelta = REPEAT_WINDOW,
) -> int:
    """Record a question (or count it again when the same agent just asked it) and hand over an escalation."""
    now = utcnow()
    top = result.suggestions[0] if result.suggestions else None
    key = text_key(request.question)
    repeat = _repeat_of(session, request, key, user_id, api_key_id, now - repeat_window)
    escalated_before = repeat is not None and repeat.handoff == "escalation"
    asked = {"last_asked_at": now, "lang": result.lang, "channel": request.channel or "web",
             "outcome": result.outcome.value, "top_entry_id": top.entry_id if top else None,
             "suggested_entry_ids": [s.entry_id for s in result.suggestions],
             "top_score": top.score if top else top_score, "rule_id": rule_id, "took_ms": result.took_ms,
             "crisis_id": result.crisis_id}
    # The agency's clock runs for every question it answers on the page.
    sla = result.escalation.sla if result.escalation else (top.route.sla if top and top.route else None)
    due = _due(now, sla, None)["first_response_due"]
    if result.escalation is None or escalated_before:
        # Nothing to hand over, as for most questions and every repeat: one Core statement on the session's
        # connection and transaction, a fraction of the ORM's unit of work.
        if repeat is None:
            new = {"text": request.question, "text_key": key, "source": source, "user_id": user_id,
                   "api_key_id": api_key_id, "created_at": now, "asked_count": 1, "first_response_due": due, **asked}
            inquiry_id = session.connection().execute(_NEW, new).scalar_one()
        else:
            inquiry_id = repeat.id
            session.connection().execute(_AGAIN, {"repeat_id": inquiry_id, "due": due, **asked})
            held = session.identity_map.get(identity_key(Inquiry, inquiry_id))
            if held is not None:  # a session that holds the row reads it afresh
                session.expire(held)
        session.commit()
        return inquiry_id
    inquiry = session.get(Inquiry, repeat.id) if repeat is not None else None
    if inquiry is None:
        inquiry = Inquiry(text=request.question, text_key=key, source=source,
                          user_id=user_id, api_key_id=api_key_id, created_at=now, asked_count=0)
        session.add(inquiry)
    inquiry.asked_count = (inquiry.asked_count or 0) + 1
    for name, value in asked.items():
        setattr(inquiry, name, value)
    inquiry.first_response_due = inquiry.first_response_due or due
    if result.escalation is not None and not escalated_before:
        _hand_over(session, inquiry, "escalation", department_id=result.escalation.department_id,
                   sla=result.escalation.sla, take_minutes=result.escalation.sla.first_response_minutes, now=now)
        session.flush()
        _notify_escalation(session, inquiry, result.escalation)
    session.commit()
    return inquiry.id


def _hand_over(session: Session, inquiry: Inquiry, reason: str, *, department_id: int | None, sla: Sla | None,
               take_minutes: int | None, now: dt.datetime) -> None:
    due = _due(now, sla, take_minutes)
    inquiry.handoff = reason
    inquiry.department_id = department_id
    inquiry.take_due, inquiry.resolution_due = due["take_due"], due["resolution_due"]
    inquiry.first_response_due = inquiry.first_response_due or due["first_response_due"]


def _notify_escalation(session: Session, inquiry: Inquiry, esc: Escalation) -> None:
    kinds = esc.kinds or [esc.kind]
    payload = {"kind": esc.kind, "kinds": kinds, "inquiry_id": inquiry.id, "question": inquiry.text,
               "channel": inquiry.channel, "department": esc.department,
               "first_response_due": inquiry.first_response_due.isoformat() + "Z"
               if inquiry.first_response_due else None}
    notify.queue(session, subject=f"Escalation ({', '.join(kinds)}): {inquiry.text[:120]}", payload=payload,
                 department_ids=list(dict.fromkeys([esc.department_id, *esc.notify_department_ids])))


def _owned(session: Session, inquiry_id: int, user_id: int | None, api_key_id: int | None) -> Inquiry:
    """Return the caller's own inquiry: the same API key, or the same signed-in agent."""
    inquiry = session.get(Inquiry, inquiry_id)
    if inquiry is not None:
        if api_key_id is not None and inquiry.api_key_id == api_key_id:
            return inquiry
        if api_key_id is None and user_id is not None and inquiry.user_id == user_id:
            return inquiry
    raise NotFound(f"no inquiry {inquiry_id}")


def record_feedback(
    *, session: Session, inquiry_id: int, entry_id: int | None, version: int | None, action: str,
    sent_text: str | None = None, user_id: int | None = None, api_key_id: int | None = None,
) -> Inquiry:
    """Record what the agent did with a suggestion: copied, used, edited before sending, or not helpful."""
    if action not in FEEDBACK_ACTIONS:
        raise ValidationFailed(f"action must be one of {', '.join(FEEDBACK_ACTIONS)}")
    if sent_text is not None and len(sent_text) > 10_000:
        raise ValidationFailed("sent_text is longer than 10000 characters")
    inquiry = _owned(session, inquiry_id, user_id, api_key_id)
    if action in REPLIED and entry_id is not None and entry_id != inquiry.chosen_entry_id:
        _learn_from_pick(session, inquiry, entry_id, user_id=user_id, api_key_id=api_key_id)
    if entry_id is not None or action == "not_helpful":
        inquiry.chosen_entry_id = entry_id
        inquiry.chosen_version = version
    # A later "copied" does not hide an earlier, more telling "edited" or "used".
    if not (action == "copied" and inquiry.feedback in ("used", "edited")):
        inquiry.feedback = action
    if sent_text is not None:
        inquiry.sent_text = sent_text.replace("\x00", "")  # PostgreSQL text cannot hold NUL
    if action in REPLIED and inquiry.replied_at is None:
        inquiry.replied_at = utcnow()
    session.commit()
    return inquiry


def _learn_from_pick(session: Session, inquiry: Inquiry, entry_id: int, *, user_id: int | None,
                     api_key_id: int | None) -> None:
    """An agent used a lower suggestion: the message may be how customers ask that entry's question."""
    # Only the second and third: a pick further down says less about the message, and would let one agent attach
    # any text to almost any entry by asking for ten low-confidence suggestions.
    suggested = (inquiry.suggested_entry_ids or [])[:LEARN_FROM_RANK]
    if inquiry.outcome != "answer" or entry_id not in suggested[1:]:
        return  # the first suggestion was right, or the entry was not among the first three, or a red flag
    if user_id is None and api_key_id is not None:
        key = session.get(ApiKey, api_key_id)
        user_id = key.user_id if key is not None else None
    phrasings.note_pick(session=session, entry_id=entry_id, text=inquiry.text, lang=inquiry.lang,
                        rank=suggested.index(entry_id) + 1, inquiry_id=inquiry.id, user_id=user_id)


def send_to_pr(
    *, session: Session, inquiry_id: int, user_id: int | None, api_key_id: int | None = None
) -> Inquiry:
    """Hand a question with no approved answer to PR: it joins their queue and is owed an answer."""
    inquiry = _owned(session, inquiry_id, user_id, api_key_id)
    inquiry.sent_to_pr = True
    if inquiry.handoff is None:
        dept = owners.find_department(session=session, slug=PR_DEPARTMENT)
        category = session.scalar(select(Category).where(Category.slug == PR_CATEGORY))
        _hand_over(session, inquiry, "no_match", department_id=dept.id if dept else None,
                   sla=Sla(category.first_response_minutes, category.resolution_minutes) if category else None,
                   take_minutes=category.take_minutes if category else None, now=utcnow())
    session.commit()
    return inquiry


def hand_off(
    *, session: Session, inquiry_id: int, department: str, reason: str, user_id: int | None,
    api_key_id: int | None = None,
) -> Inquiry:
    """Hand a conversation to an in-house department (a sales lead, a service case): it is owed from now on."""
    if reason not in HANDOFF_REASONS:
        raise ValidationFailed(f"reason must be one of {', '.join(HANDOFF_REASONS)}")
    inquiry = _owned(session, inquiry_id, user_id, api_key_id)
    dept = owners.find_department(session=session, slug=department)
    if dept is None:
        raise ValidationFailed(f"unknown department {department!r}")
    if inquiry.handoff is not None:
        raise ValidationFailed("this conversation has been handed over already")
    category = session.scalar(select(Category).where(Category.department_id == dept.id).order_by(Category.id))
    sla = Sla(category.first_response_minutes, category.resolution_minutes) if category else Sla(60, 24 * 60)
    _hand_over(session, inquiry, reason, department_id=dept.id, sla=sla,
               take_minutes=category.take_minutes if category else None, now=utcnow())
    session.flush()
    notify.queue(session, subject=f"Handed over ({reason}): {inquiry.text[:120]}", department_id=dept.id,
                 payload={"kind": reason, "inquiry_id": inquiry.id, "question": inquiry.text,
                          "channel": inquiry.channel, "department": dept.name})
    session.commit()
    return inquiry

