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


def live_versions(
    *, session: Session, version_ids: Sequence[int], today: dt.date | None = None
) -> dict[int, int]:
    """Return {version id: entry id} for those of `version_ids` still approved and unexpired."""
    if not version_ids:
        return {}
    today = today or dt.date.today()
    rows = session.execute(
        select(EntryVersion.id, EntryVersion.entry_id).where(
            EntryVersion.id.in_(list(version_ids)), *_suggestable_filter(today)
        )
    )
    return {version_id: entry_id for version_id, entry_id in rows}


def versions_for_display(*, session: Session, version_ids: Sequence[int]) -> dict[int, EntryVersion]:
    """Load versions with what a suggestion shows: entry, category, routing department and contacts, approver."""
    if not version_ids:
        return {}
    rows = session.scalars(
        select(EntryVersion)
        .where(EntryVersion.id.in_(list(version_ids)))
        .options(
            joinedload(EntryVersion.entry).joinedload(Entry.category).joinedload(Category.department)
            .selectinload(Department.contacts),
            joinedload(EntryVersion.approver),
        )
    )
    return {v.id: v for v in rows.unique()}


def suggestable_by_ids(
    *, session: Session, version_ids: Sequence[int], today: dt.date | None = None
) -> dict[int, EntryVersion]:
    """Re-read versions the index returned, keeping only those still approved and unexpired."""
    live = live_versions(session=session, version_ids=version_ids, today=today)
    return versions_for_display(session=session, version_ids=list(live))


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
