"""Read models of the console: entry lists with filters and counts, the review queue, the audit log."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from kb.models import AuditEvent, Entry, EntryVersion
from kb.workflow import Status

SORTS = ("id", "question", "review_by", "updated")


@dataclass(frozen=True)
class EntryFilter:
    status: str | None = None
    lang: str | None = None
    category: str | None = None
    department: str | None = None
    overdue: bool = False
    missing_variant: str | None = None
    search: str | None = None
    sort: str = "id"


def list_entries(
    *, session: Session, filters: EntryFilter = EntryFilter(), limit: int = 50, offset: int = 0,
    today: dt.date | None = None,
) -> tuple[list[Entry], int]:
    """Return one page of entries matching the filters (on each entry's latest version) and the total."""
    today = today or dt.date.today()
    query = select(Entry).options(selectinload(Entry.versions), selectinload(Entry.category),
                                  selectinload(Entry.department))
    if filters.lang:
        query = query.where(Entry.lang == filters.lang)
    rows = [e for e in session.scalars(query) if e.versions]
    needle = filters.search.casefold() if filters.search else None

    def keep(e: Entry) -> bool:
        latest = e.versions[-1]
        serving = e.approved_version
        if filters.status and latest.status != filters.status:
            return False
        if filters.category and (e.category is None or e.category.slug != filters.category):
            return False
        if filters.department and (e.department is None or e.department.slug != filters.department):
            return False
        if filters.overdue and not (serving and serving.review_by and serving.review_by < today):
            return False
        if filters.missing_variant and filters.missing_variant in (latest.variants or {}):
            return False
        if needle:
            text = " ".join([latest.question, latest.answer, *(latest.alternates or []), *(e.tags or [])])
            if needle not in text.casefold():
                return False
        return True

    found = [e for e in rows if keep(e)]
    key = {
        "id": lambda e: e.id,
        "question": lambda e: e.versions[-1].question.casefold(),
        "review_by": lambda e: (e.versions[-1].review_by or dt.date.max),
        "updated": lambda e: -(e.versions[-1].created_at.timestamp()),
    }[filters.sort if filters.sort in SORTS else "id"]
    found.sort(key=key)
    return found[offset : offset + limit], len(found)


def status_counts(*, session: Session) -> dict[str, int]:
    """Return how many entries have their latest version in each status."""
    latest = (
        select(EntryVersion.entry_id, func.max(EntryVersion.number).label("number"))
        .group_by(EntryVersion.entry_id)
        .subquery()
    )
    rows = session.execute(
        select(EntryVersion.status, func.count())
        .join(latest, (latest.c.entry_id == EntryVersion.entry_id) & (latest.c.number == EntryVersion.number))
        .group_by(EntryVersion.status)
    )
    return {status: count for status, count in rows}


def in_review(*, session: Session) -> list[EntryVersion]:
    """Return versions waiting for an approver, oldest submission first."""
    return list(
        session.scalars(
            select(EntryVersion)
            .where(EntryVersion.status == Status.IN_REVIEW.value)
            .options(selectinload(EntryVersion.entry), selectinload(EntryVersion.author),
                     selectinload(EntryVersion.contributions))
            .order_by(EntryVersion.submitted_at, EntryVersion.id)
        )
    )


def audit_log(*, session: Session, search: str | None = None, limit: int = 200,
              offset: int = 0) -> list[AuditEvent]:
    """Return the newest audit events, optionally those whose action, actor or content mention `search`."""
    query = select(AuditEvent).options(selectinload(AuditEvent.actor)).order_by(AuditEvent.id.desc())
    if not search:
        return list(session.scalars(query.offset(offset).limit(limit)))
    needle = search.casefold()
    found = []
    for event in session.scalars(query.limit(5000)):
        haystack = " ".join([event.action, event.comment or "", event.actor.username if event.actor else "",
                             str(event.entry_id or ""), str(event.before or ""), str(event.after or "")])
        if needle in haystack.casefold():
            found.append(event)
            if len(found) == offset + limit:
                break
    return found[offset:]


