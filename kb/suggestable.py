"""What may be suggested: approved, unexpired versions, and what changed since a KB generation."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from kb import storage
from kb.models import Category, Department, Entry, EntryVersion, Phrasing
from kb.workflow import Status


def _suggestable_filter(today: dt.date) -> tuple[ColumnElement[bool], ...]:
    return (
        EntryVersion.status == Status.APPROVED.value,
        or_(EntryVersion.review_by.is_(None), EntryVersion.review_by >= today),
    )


def list_suggestable(*, session: Session, today: dt.date | None = None) -> list[EntryVersion]:
    """Return every approved, unexpired version, with its entry loaded."""
    today = today or dt.date.today()
    return list(
        session.scalars(
            select(EntryVersion)
            .where(*_suggestable_filter(today))
            .options(selectinload(EntryVersion.entry).selectinload(Entry.learned_phrasings))
            .order_by(EntryVersion.id)
        )
    )


def suggestable_by_ids(
    *, session: Session, version_ids: Sequence[int], today: dt.date | None = None
) -> dict[int, EntryVersion]:
    """Re-read versions the index returned, keeping only those still approved and unexpired, with what a
    suggestion shows: entry, category, routing department and contacts, approver. One round trip for the head."""
    if not version_ids:
        return {}
    today = today or dt.date.today()
    rows = session.scalars(
        select(EntryVersion)
        .where(EntryVersion.id.in_(list(version_ids)), *_suggestable_filter(today))
        .options(
            joinedload(EntryVersion.entry).joinedload(Entry.category).joinedload(Category.department)
            .selectinload(Department.contacts),
            joinedload(EntryVersion.approver),
        )
    )
    return {v.id: v for v in rows.unique()}


def changes_since(*, session: Session, generation: int) -> tuple[int, list[EntryVersion], list[EntryVersion]]:
    """Return (current generation, versions now approved, versions no longer approved) since `generation`."""
    current = storage.generation(session)
    if current <= generation:
        return current, [], []
    # A version is indexed again when it entered or left the approved set, or when its entry's accepted phrasings
    # changed (they are matched with whichever version is approved).
    rephrased = select(Entry.approved_version_id).join(Phrasing, Phrasing.entry_id == Entry.id).where(
        Phrasing.changed_generation > generation)
    changed = list(
        session.scalars(
            select(EntryVersion)
            .where(or_(EntryVersion.changed_generation > generation, EntryVersion.id.in_(rephrased)))
            .options(selectinload(EntryVersion.entry).selectinload(Entry.learned_phrasings))
            .order_by(EntryVersion.changed_generation)
            # A long-lived session may hold these entries with the phrasings they had: read them afresh.
            .execution_options(populate_existing=True)
        )
    )
    added = [v for v in changed if v.status == Status.APPROVED.value]
    removed = [v for v in changed if v.status != Status.APPROVED.value]
    return current, added, removed
