"""Numbers for the dashboard: questions per day by outcome, no-match share, most-used answers, review debt."""
from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb import history
from kb.models import EntryVersion, Inquiry, utcnow
from kb.workflow import Status


@dataclass
class Dashboard:
    days: list[str] = field(default_factory=list)
    per_day: dict[str, list[int]] = field(default_factory=dict)  # outcome -> count per day
    total: int = 0
    no_match_share: float | None = None
    most_used: list[tuple[int, str, int]] = field(default_factory=list)  # entry id, question, uses
    overdue_reviews: list[EntryVersion] = field(default_factory=list)
    median_hours_to_approval: float | None = None


def dashboard(*, session: Session, days: int = 30, now: dt.datetime | None = None) -> Dashboard:
    """Compute the dashboard over the last `days` days."""
    now = now or utcnow()
    start = (now - dt.timedelta(days=days - 1)).date()
    labels = [(start + dt.timedelta(days=i)).isoformat() for i in range(days)]
    index = {d: i for i, d in enumerate(labels)}
    board = Dashboard(days=labels, per_day={o: [0] * days for o in ("answer", "no_match", "escalate")})
    rows = session.execute(
        select(Inquiry.created_at, Inquiry.outcome, Inquiry.chosen_entry_id, Inquiry.feedback)
        .where(Inquiry.created_at >= dt.datetime.combine(start, dt.time()), Inquiry.source != "eval")
    ).all()
    uses: Counter[int] = Counter()
    for created, outcome, chosen, feedback in rows:
        i = index.get(created.date().isoformat())
        if i is not None and outcome in board.per_day:
            board.per_day[outcome][i] += 1
        if chosen is not None and feedback in ("copied", "used", "edited"):
            uses[chosen] += 1
    board.total = len(rows)
    if rows:
        board.no_match_share = round(sum(1 for r in rows if r[1] == "no_match") / len(rows), 3)
    questions = dict(session.execute(
        select(EntryVersion.entry_id, EntryVersion.question).where(EntryVersion.status == Status.APPROVED.value)
    ).all())
    board.most_used = [(e, questions.get(e, f"entry {e}"), n) for e, n in uses.most_common(10)]
    board.overdue_reviews = list(session.scalars(
        select(EntryVersion).where(EntryVersion.status == Status.APPROVED.value,
                                   EntryVersion.review_by < now.date()).order_by(EntryVersion.review_by)
    ))
    waits = [(v.approved_at - v.created_at).total_seconds() / 3600 for v in session.scalars(
        select(EntryVersion).where(EntryVersion.approved_at.is_not(None), EntryVersion.author_id.is_not(None)))
        if v.approved_at is not None]
    board.median_hours_to_approval = round(statistics.median(waits), 1) if waits else None
    return board


@dataclass
class EditedSend:
    inquiry_id: int
    at: dt.datetime
    version: int | None
    ops: list[tuple[str, str]]  # word diff from the approved answer to what the agent sent


def edited_sends(*, session: Session, entry_id: int, limit: int = 20) -> list[EditedSend]:
    """Return what agents changed in an entry's approved answer before sending it, newest first."""
    rows = session.execute(
        select(Inquiry.id, Inquiry.created_at, Inquiry.chosen_version, Inquiry.sent_text)
        .where(Inquiry.chosen_entry_id == entry_id, Inquiry.feedback == "edited", Inquiry.sent_text.is_not(None))
        .order_by(Inquiry.id.desc()).limit(limit)
    ).all()
    answers = dict(session.execute(select(EntryVersion.number, EntryVersion.answer)
                                   .where(EntryVersion.entry_id == entry_id)).all())
    return [EditedSend(inquiry_id, at, number,
                       history.word_diff(answers.get(number, "") if number is not None else "", sent or ""))
            for inquiry_id, at, number, sent in rows]
