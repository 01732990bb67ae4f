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
        if taken is not None and (take_due is None or taken <= take_due):
            r.taken_in_time += 1
        elif taken is not None or (take_due is not None and take_due < now):
            r.taken_late += 1
        if resolved is not None:
            durations.setdefault(dept_id, []).append((resolved - created).total_seconds() / 60)
            if due is None or resolved <= due:
                r.met += 1
            else:
                r.missed += 1
        elif due is not None and due < now:
            r.missed += 1
        else:
            r.open += 1
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
        if replied is not None:
            waits.setdefault(user_id, []).append((replied - created).total_seconds() / 60)
            if due is None or replied <= due:
                r.replied_in_time += 1
            else:
                r.replied_late += 1
        elif due is not None and due < now:
            r.replied_late += 1
        else:
            r.not_replied += 1
    for user_id, values in waits.items():
        reports[user_id].median_reply_minutes = round(statistics.median(values), 1)
    return sorted(reports.values(), key=lambda r: r.rep)
