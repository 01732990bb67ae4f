"""Test entries built through the real entry services: a draft, a version in review, an approved entry."""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TypedDict, Unpack

from sqlalchemy.orm import Session

from kb import service
from kb.models import EntryVersion, User
from kb.service import Draft


class DraftFields(TypedDict, total=False):
    """The content of a draft a test may set; the rest comes from the router entry."""

    question: str
    answer: str
    lang: str
    alternates: list[str]
    variants: dict[str, str]
    placeholders: list[str]
    review_by: dt.date | None
    category: str | None
    department: str | None
    tags: list[str]


def make_draft(**fields: Unpack[DraftFields]) -> Draft:
    """Return valid draft content (not saved), with the given fields overridden."""
    values: DraftFields = {
        "question": "How do I restart my router?",
        "answer": "Unplug the router, wait 30 seconds and plug it back in.",
        "lang": "en",
        "alternates": ["reboot the modem"],
        "category": "technical",
    }
    values.update(fields)
    return Draft(**values)


def draft(
    session: Session, users: Mapping[str, User], *, author: str = "editor", **fields: Unpack[DraftFields]
) -> EntryVersion:
    """Create a new entry whose first version is a draft by `author`."""
    return service.create_draft(session=session, actor=users[author], draft=make_draft(**fields))


def in_review(
    session: Session, users: Mapping[str, User], *, author: str = "editor", **fields: Unpack[DraftFields]
) -> EntryVersion:
    """Create a new entry and submit its first version for review."""
    version = draft(session, users, author=author, **fields)
    return service.submit(session=session, actor=users[author], version_id=version.id)


def approved_entry(
    session: Session,
    users: Mapping[str, User],
    *,
    author: str = "editor",
    approver: str = "approver",
    **fields: Unpack[DraftFields],
) -> EntryVersion:
    """Create a new entry and take its first version through review to approved, so it is suggestable."""
    version = in_review(session, users, author=author, **fields)
    return service.approve(session=session, actor=users[approver], version_id=version.id)
