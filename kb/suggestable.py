"""What may be suggested: approved, unexpired versions, and what changed since a KB generation."""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row, or_, select
from sqlalchemy.orm import Session, selectinload

from kb import storage
from kb.models import Category, Department, Entry, EntryVersion, Phrasing, User
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


@dataclasses.dataclass(frozen=True)
class Served:
    """What an approved version shows, as its approval fixed it (an approved version's text never changes). A worker
    keeps one for every version its index holds, so a question's best candidates need no database read; the entry's
    category and the approver's name can change, so they are looked up per KB generation."""

    version_id: int
    entry_id: int
    number: int
    question: str
    answer: str
    variants: dict[str, Any]
    placeholders: tuple[str, ...]
    approved_at: dt.datetime | None
    review_by: dt.date | None
    approver_id: int | None

    @classmethod
    def of(cls, v: EntryVersion | Row) -> Served:
        """Return the facts of a version, from the ORM object or from a `suggestable_rows` row."""
        return cls(v.id, v.entry_id, v.number, v.question, v.answer, dict(v.variants or {}),
                   tuple(v.placeholders or ()), v.approved_at, v.review_by, v.approver_id)

    def live_on(self, today: dt.date) -> bool:
        """Say whether the version may still be suggested on this day (its review-by date not passed)."""
        return self.review_by is None or self.review_by >= today


def entry_categories(*, session: Session) -> dict[int, int | None]:
    """Return every entry's category, by entry id: two integers a row, read once per KB generation."""
    return {entry_id: category_id for entry_id, category_id in session.execute(select(Entry.id, Entry.category_id))}


def approver_names(*, session: Session) -> dict[int, str]:
    """Return every user's display name, by id (approvers are shown by name on each suggestion)."""
    return {user_id: name for user_id, name in session.execute(select(User.id, User.display_name))}


def suggestable_rows(*, session: Session, version_ids: Sequence[int], today: dt.date | None = None) -> list[Row]:
    """Return those of these versions still approved and unexpired, as plain rows of what a suggestion shows (the
    entry's category by id: there are few, see `categories`). One query and no ORM objects, since every question's
    head that is not yet kept by the worker comes through here."""
    if not version_ids:
        return []
    today = today or dt.date.today()
    return list(session.execute(
        select(EntryVersion.id, EntryVersion.entry_id, EntryVersion.number, EntryVersion.question,
               EntryVersion.answer, EntryVersion.variants, EntryVersion.placeholders, EntryVersion.approved_at,
               EntryVersion.review_by, EntryVersion.approver_id, Entry.category_id,
               User.display_name.label("approver"))
        .join(Entry, Entry.id == EntryVersion.entry_id)
        .outerjoin(User, User.id == EntryVersion.approver_id)
        .where(EntryVersion.id.in_(list(version_ids)), *_suggestable_filter(today))
    ))


def categories(*, session: Session) -> list[Category]:
    """Return every category with its department and the department's contacts, as the database holds them now
    (not as a long-lived session loaded them before: what this returns is kept for a whole KB generation)."""
    return list(session.scalars(
        select(Category).options(selectinload(Category.department).selectinload(Department.contacts))
        .execution_options(populate_existing=True)))


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
