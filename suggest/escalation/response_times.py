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


@dataclass
class DepartmentReport:
    department: str
    total: int = 0
    met: int = 0
    missed: int = 0
    open: int = 0
    median_minutes: float | None = None


def owed(*, session: Session, now: dt.datetime | None = None, overdue_only: bool = False,
         limit: int = 200) -> list[Inquiry]:
    """Return unresolved questions a department owes an answer to, soonest due first."""
    now = now or utcnow()
    query = select(Inquiry).where(Inquiry.department_id.is_not(None), Inquiry.resolved_at.is_(None),
                                  Inquiry.resolution_due.is_not(None))
    if overdue_only:
        query = query.where(Inquiry.resolution_due < now)
    return list(session.scalars(query.order_by(Inquiry.resolution_due).limit(limit)))


def resolve(*, session: Session, inquiry_id: int, user: User) -> Inquiry:
    """Record that the department has answered the customer."""
    inquiry = session.get(Inquiry, inquiry_id)
    if inquiry is None or inquiry.department_id is None:
        raise NotFound(f"no question {inquiry_id} is owed an answer")
    if inquiry.resolved_at is None:
        inquiry.resolved_at = utcnow()
        inquiry.resolved_by_id = user.id
        audit.record(session, actor=user, action=AuditAction.INQUIRY_RESOLVED, after={"inquiry": inquiry.id})
        session.commit()
    return inquiry


def report(*, session: Session, since: dt.datetime, now: dt.datetime | None = None) -> list[DepartmentReport]:
    """Return met / missed / open counts and the median time to resolution per department since `since`."""
    now = now or utcnow()
    names = dict(session.execute(select(Department.id, Department.name)).all())
    rows = session.execute(
        select(Inquiry.department_id, Inquiry.created_at, Inquiry.resolution_due, Inquiry.resolved_at)
        .where(Inquiry.department_id.is_not(None), Inquiry.created_at >= since)
    ).all()
    reports: dict[int, DepartmentReport] = {}
    durations: dict[int, list[float]] = {}
    for dept_id, created, due, resolved in rows:
        if dept_id is None:  # the query leaves these out; this tells the type checker
            continue
        r = reports.setdefault(dept_id, DepartmentReport(department=names.get(dept_id, "?")))
        r.total += 1
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
