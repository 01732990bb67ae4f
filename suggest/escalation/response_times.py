"""Response-time agreements: who owes an in-house answer by when, what is overdue, and how each department did."""
from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb import audit
from kb.audit import AuditAction
from kb.errors import NotFound
from kb.models import Department, Inquiry, User, utcnow
from kb.storage import use_case


@dataclass
class DepartmentReport:
    department: str
    total: int = 0
    met: int = 0  # resolved in time
    missed: int = 0
    open: int = 0
    median_minutes: float | None = None
    taken_in_time: int = 0
    taken_late: int = 0


@dataclass
class RepReport:
    """The agency's clock for one rep: questions answered on the page, and first replies in and out of time."""

    rep: str
    asked: int = 0
    replied_in_time: int = 0
    replied_late: int = 0
    not_replied: int = 0
    median_reply_minutes: float | None = None


IN_TIME, LATE, OPEN = "in_time", "late", "open"


def _clock(due: dt.datetime | None, done: dt.datetime | None, now: dt.datetime) -> str:
    """Say how one clock stands: done in time, late (done late, or not done and past due), or still open."""
    if done is not None:
        return IN_TIME if due is None or done <= due else LATE
    return LATE if due is not None and due < now else OPEN


def owed(*, session: Session, now: dt.datetime | None = None, overdue_only: bool = False,
         limit: int = 200) -> list[Inquiry]:
    """Return handed-over conversations a department still owes an answer to, soonest due first."""
    now = now or utcnow()
    query = select(Inquiry).where(Inquiry.handoff.is_not(None), Inquiry.department_id.is_not(None),
                                  Inquiry.resolved_at.is_(None), Inquiry.resolution_due.is_not(None))
    if overdue_only:
        query = query.where(Inquiry.resolution_due < now)
    return list(session.scalars(query.order_by(Inquiry.resolution_due).limit(limit)))


@use_case
def take(*, session: Session, inquiry_id: int, user: User) -> Inquiry:
    """Record that the department has taken the conversation over (the first of the organisation's clocks)."""
    inquiry = session.get(Inquiry, inquiry_id)
    if inquiry is None or inquiry.handoff is None:
        raise NotFound(f"no question {inquiry_id} has been handed over")
    if inquiry.taken_at is None:
        inquiry.taken_at = utcnow()
        inquiry.taken_by_id = user.id
        audit.record(session, actor=user, action=AuditAction.INQUIRY_TAKEN, after={"inquiry": inquiry.id})
        session.commit()
    return inquiry


@use_case
def resolve(*, session: Session, inquiry_id: int, user: User) -> Inquiry:
    """Record that the department has answered the customer."""
    inquiry = session.get(Inquiry, inquiry_id)
    if inquiry is None or inquiry.handoff is None:
        raise NotFound(f"no question {inquiry_id} is owed an answer")
    if inquiry.resolved_at is None:
        inquiry.resolved_at = utcnow()
        if inquiry.taken_at is None:
            inquiry.taken_at, inquiry.taken_by_id = inquiry.resolved_at, user.id
        inquiry.resolved_by_id = user.id
        audit.record(session, actor=user, action=AuditAction.INQUIRY_RESOLVED, after={"inquiry": inquiry.id})
        session.commit()
    return inquiry


def report(*, session: Session, since: dt.datetime, now: dt.datetime | None = None) -> list[DepartmentReport]:
    """Return met / missed / open counts and the median time to resolution per department since `since`."""
    now = now or utcnow()
    names = dict(session.execute(select(Department.id, Department.name)).all())
    rows = session.execute(
        select(Inquiry.department_id, Inquiry.created_at, Inquiry.resolution_due, Inquiry.resolved_at,
               Inquiry.take_due, Inquiry.taken_at)
        .where(Inquiry.handoff.is_not(None), Inquiry.department_id.is_not(None), Inquiry.created_at >= since)
    ).all()
    reports: dict[int, DepartmentReport] = {}
    durations: dict[int, list[float]] = {}
    for dept_id, created, due, resolved, take_due, taken in rows:
        if dept_id is None:  # the query leaves these out; this tells the type checker
            continue
        r = reports.setdefault(dept_id, DepartmentReport(department=names.get(dept_id, "?")))
        r.total += 1
        took = _clock(take_due, taken, now)
        r.taken_in_time += took == IN_TIME
        r.taken_late += took == LATE
        state = _clock(due, resolved, now)
        r.met += state == IN_TIME
        r.missed += state == LATE
        r.open += state == OPEN
        if resolved is not None:
            durations.setdefault(dept_id, []).append((resolved - created).total_seconds() / 60)
    for dept_id, values in durations.items():
        reports[dept_id].median_minutes = round(statistics.median(values), 1)
    return sorted(reports.values(), key=lambda r: r.department)


def rep_report(*, session: Session, since: dt.datetime, now: dt.datetime | None = None) -> list[RepReport]:
    """Return, per agency rep, how many questions they asked and how fast they first replied on the page."""
    now = now or utcnow()
    names = dict(session.execute(select(User.id, User.display_name)).all())
    rows = session.execute(
        select(Inquiry.user_id, Inquiry.created_at, Inquiry.first_response_due, Inquiry.replied_at)
        .where(Inquiry.user_id.is_not(None), Inquiry.created_at >= since, Inquiry.source != "eval")
    ).all()
    reports: dict[int, RepReport] = {}
    waits: dict[int, list[float]] = {}
    for user_id, created, due, replied in rows:
        if user_id is None:  # the query leaves these out; this tells the type checker
            continue
        r = reports.setdefault(user_id, RepReport(rep=names.get(user_id, "?")))
        r.asked += 1
        state = _clock(due, replied, now)
        r.replied_in_time += state == IN_TIME
        r.replied_late += state == LATE
        r.not_replied += state == OPEN
        if replied is not None:
            waits.setdefault(user_id, []).append((replied - created).total_seconds() / 60)
    for user_id, values in waits.items():
        reports[user_id].median_reply_minutes = round(statistics.median(values), 1)
    return sorted(reports.values(), key=lambda r: r.rep)
