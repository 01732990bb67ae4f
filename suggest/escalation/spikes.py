"""Spike detection: a topic suddenly asked about far more often than usual raises an alert.

Method: questions are counted per matched entry, and per cluster of unanswered questions, in the last
`window` minutes. The usual rate is the mean count per window over the previous `history` hours. A spike is a
count of at least `min_count` that is also above `factor` times the usual rate plus three standard deviations of
a Poisson count with that rate (sqrt of the rate). The same topic raises at most one alert per window.
"""
from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kb.models import Alert, Entry, EntryVersion, Inquiry, utcnow
from suggest.escalation import notify
from suggest.insights.unanswered import cluster_texts


@dataclass(frozen=True)
class SpikeSettings:
    window_minutes: int = 60
    history_hours: int = 7 * 24
    min_count: int = 10
    factor: float = 3.0
    min_history_hours: int = 72  # no alert until questions have been recorded for this long: no baseline yet


def is_spike(count: int, usual: float, s: SpikeSettings) -> bool:
    """Say whether `count` in one window is a spike against a usual rate of `usual` per window."""
    return count >= s.min_count and count > s.factor * usual + 3 * math.sqrt(usual)


def _label(window_minutes: int) -> str:
    return "hour" if window_minutes == 60 else f"{window_minutes} minutes"


def detect(*, session: Session, settings: SpikeSettings = SpikeSettings(), now: dt.datetime | None = None
           ) -> list[Alert]:
    """Raise alerts for the topics spiking now, and queue their notifications; return the new alerts."""
    now = now or utcnow()
    window = dt.timedelta(minutes=settings.window_minutes)
    since = now - dt.timedelta(hours=settings.history_hours)
    rows = session.execute(
        select(Inquiry.id, Inquiry.text, Inquiry.lang, Inquiry.outcome, Inquiry.top_entry_id, Inquiry.created_at)
        .where(Inquiry.created_at >= since, Inquiry.created_at <= now, Inquiry.source != "eval")
    ).all()
    windows = max(1.0, (settings.history_hours * 60 - settings.window_minutes) / settings.window_minutes)
    recent: Counter[str] = Counter()
    before: Counter[str] = Counter()
    labels: dict[str, str] = {}
    first = session.scalar(select(func.min(Inquiry.created_at)).where(Inquiry.source != "eval"))
    if first is None or first > now - dt.timedelta(hours=settings.min_history_hours):
        return []  # too little history to know what is usual
    members: dict[str, list[int]] = {}
    for inquiry_id, _, _, outcome, entry_id, at in rows:
        if outcome == "answer" and entry_id is not None:
            key = f"entry:{entry_id}"
            (recent if at > now - window else before)[key] += 1
            if at > now - window:
                members.setdefault(key, []).append(inquiry_id)
    unanswered = [(r[0], r[1], r[2], False, r[5]) for r in rows if r[3] == "no_match"]
    for cluster in cluster_texts(unanswered):
        key = f"cluster:{cluster.lang}:{cluster.label.casefold()[:200]}"
        labels[key] = cluster.label
        times = {r[0]: r[5] for r in rows}
        for inquiry_id in cluster.inquiry_ids:
            (recent if times[inquiry_id] > now - window else before)[key] += 1
            if times[inquiry_id] > now - window:
                members.setdefault(key, []).append(inquiry_id)
    alerts = []
    for key, count in recent.items():
        usual = before[key] / windows
        if not is_spike(count, usual, settings) or _alerted_recently(session, key, now - window):
            continue
        topic, department_id = _topic(session, key, labels)
        message = (f"{count} questions about {topic} in the last {_label(settings.window_minutes)}, "
                   f"usually {usual:.0f}")
        questions = sorted(members.get(key, []), reverse=True)[:MAX_NAMED]
        alert = Alert(kind="spike", key=key, message=message, count=count, baseline=round(usual, 2),
                      department_id=department_id, created_at=now, inquiry_ids=questions,
                      window_start=_window_start(now, settings.window_minutes))
        try:
            # Several workers look at the same moment: the unique (topic, window) row lets only one alert.
            with session.begin_nested():
                session.add(alert)
        except IntegrityError:
            continue
        notify.queue(session, subject=message, department_id=department_id,
                     payload={"kind": "spike", "key": key, "count": count, "usual": round(usual, 2),
                              "message": message, "inquiry_ids": questions})
        alerts.append(alert)
    session.commit()
    return alerts


MAX_NAMED = 20  # questions an alert names


def _window_start(now: dt.datetime, window_minutes: int) -> dt.datetime:
    """Return the start of the fixed window `now` falls in (the unit of one alert per topic)."""
    minutes = (now - dt.datetime(2000, 1, 1)) // dt.timedelta(minutes=window_minutes)
    return dt.datetime(2000, 1, 1) + minutes * dt.timedelta(minutes=window_minutes)


def questions(*, session: Session, alert: Alert) -> list[Inquiry]:
    """Return the questions that made an alert, newest first."""
    ids = list(alert.inquiry_ids or [])
    return list(session.scalars(select(Inquiry).where(Inquiry.id.in_(ids)).order_by(Inquiry.id.desc()))) if ids else []


def _alerted_recently(session: Session, key: str, since: dt.datetime) -> bool:
    return session.scalar(select(Alert.id).where(Alert.key == key, Alert.created_at > since)) is not None


def _topic(session: Session, key: str, labels: dict[str, str]) -> tuple[str, int | None]:
    if key.startswith("entry:"):
        entry = session.get(Entry, int(key.split(":", 1)[1]))
        if entry is not None:
            version = entry.approved_version or session.scalar(
                select(EntryVersion).where(EntryVersion.entry_id == entry.id).order_by(EntryVersion.number.desc()))
            question = f"“{version.question}”" if version else f"entry {entry.id}"
            name = entry.category.name.lower() if entry.category else question
            return name, entry.department_id
    return f"“{labels.get(key, key)}” (no approved answer)", None


def open_alerts(*, session: Session, limit: int = 50) -> list[Alert]:
    """Return alerts nobody has acknowledged yet, newest first."""
    return list(session.scalars(select(Alert).where(Alert.acknowledged_at.is_(None))
                                .order_by(Alert.id.desc()).limit(limit)))


def acknowledge(*, session: Session, alert_id: int, user_id: int) -> Alert | None:
    """Mark an alert as seen."""
    alert = session.get(Alert, alert_id)
    if alert is not None and alert.acknowledged_at is None:
        alert.acknowledged_at = utcnow()
        alert.acknowledged_by_id = user_id
        session.commit()
    return alert
