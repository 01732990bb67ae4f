"""Entry use cases: draft, edit, review, approve, retire, read. One transaction each."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from kb import audit, content
from kb.audit import AuditAction
from kb.errors import NotFound, StaleWrite, TransitionNotAllowed, ValidationFailed
from kb.models import (
    Category,
    Department,
    Entry,
    EntryVersion,
    User,
    VersionContributor,
    utcnow,
)
from kb.storage import use_case
from kb.workflow import Action, Role, Status, transition

OPEN_STATUSES = (Status.DRAFT.value, Status.REJECTED.value, Status.IN_REVIEW.value)


@dataclass
class Draft:
    """The editable content of a version."""

    question: str
    answer: str
    lang: str
    alternates: list[str] = field(default_factory=list)
    variants: dict[str, str] = field(default_factory=dict)
    placeholders: list[str] = field(default_factory=list)
    review_by: dt.date | None = None
    category: str | None = None  # category slug
    department: str | None = None  # owner department slug
    tags: list[str] = field(default_factory=list)

    def cleaned(self) -> Draft:
        """Return a copy with whitespace trimmed and empty items dropped, after checking the content."""
        alternates = [content.strip_markup(a).strip() for a in self.alternates if a and a.strip()]
        variants = {content.normalise_channel(k): v.strip() for k, v in self.variants.items() if v and v.strip()}
        placeholders = sorted({p.strip() for p in self.placeholders if p and p.strip()})
        tags = sorted({t.strip() for t in self.tags if t and t.strip()})
        variants = {k: content.strip_markup(v) for k, v in variants.items()}
        draft = Draft(
            question=content.strip_markup(self.question).strip(),
            answer=content.strip_markup(self.answer).strip(),
            lang=self.lang.strip().lower(),
            alternates=alternates,
            variants=variants,
            placeholders=placeholders,
            review_by=self.review_by,
            category=self.category or None,
            department=self.department or None,
            tags=tags,
        )
        content.check_version(
            lang=draft.lang,
            question=draft.question,
            answer=draft.answer,
            alternates=draft.alternates,
            variants=draft.variants,
            placeholders=draft.placeholders,
        )
        return draft


def snapshot(version: EntryVersion) -> dict[str, Any]:
    """Return the audited view of a version."""
    entry = version.entry
    return {
        "number": version.number,
        "status": version.status,
        "question": version.question,
        "alternates": list(version.alternates or []),
        "answer": version.answer,
        "variants": dict(version.variants or {}),
        "placeholders": list(version.placeholders or []),
        "review_by": version.review_by.isoformat() if version.review_by else None,
        "lang": entry.lang,
        "category": entry.category.slug if entry.category else None,
        "department": entry.department.slug if entry.department else None,
        "tags": list(entry.tags or []),
    }


def _role(actor: User) -> Role:
    return Role(actor.role)


def contributed(version: EntryVersion, user: User) -> bool:
    """Say whether `user` wrote or changed the version's text (and so may not approve it)."""
    return user.id in version.contributor_ids


def _category(session: Session, slug: str | None) -> Category | None:
    if not slug:
        return None
    found = session.scalar(select(Category).where(Category.slug == slug))
    if found is None:
        raise ValidationFailed(f"unknown category {slug!r}")
    return found


def _department(session: Session, slug: str | None) -> Department | None:
    if not slug:
        return None
    found = session.scalar(select(Department).where(Department.slug == slug))
    if found is None:
        raise ValidationFailed(f"unknown department {slug!r}")
    return found


def apply_entry_fields(session: Session, entry: Entry, draft: Draft) -> None:
    category = _category(session, draft.category)
    department = _department(session, draft.department)
    entry.lang = draft.lang
    entry.category = category
    entry.department = department or (category.department if category else None)
    entry.tags = draft.tags


def _commit(session: Session) -> None:
    try:
        session.commit()
    except StaleDataError:
        session.rollback()
        raise StaleWrite("someone else saved this first; reload to see their change") from None


@use_case
def add_draft(
    session: Session,
    *,
    actor: User,
    draft: Draft,
    external_id: str | None = None,
) -> EntryVersion:
    """Stage a new entry with its first draft in the session, without committing (imports batch these)."""
    transition(Action.EDIT, status=Status.DRAFT, role=_role(actor), is_author=True)
    draft = draft.cleaned()
    entry = Entry(lang=draft.lang, external_id=external_id, tags=[])
    apply_entry_fields(session, entry, draft)
    session.add(entry)
    version = new_version(entry, draft, number=1, author=actor)
    session.add(version)
    session.flush()
    audit.record(session, actor=actor, action=AuditAction.CREATE, version=version, after=snapshot(version))
    return version


@use_case
def create_draft(*, session: Session, actor: User, draft: Draft, external_id: str | None = None) -> EntryVersion:
    """Create a new entry with its first draft."""
    version = add_draft(session, actor=actor, draft=draft, external_id=external_id)
    _commit(session)
    return version


def new_version(entry: Entry, draft: Draft, *, number: int, author: User) -> EntryVersion:
    return EntryVersion(
        entry=entry,
        number=number,
        question=draft.question,
        alternates=draft.alternates,
        answer=draft.answer,
        variants=draft.variants,
        placeholders=draft.placeholders,
        review_by=draft.review_by,
        status=Status.DRAFT.value,
        author_id=author.id,
        contributions=[VersionContributor(user_id=author.id)],
    )


def get_entry(*, session: Session, entry_id: int) -> Entry:
    """Return an entry or raise NotFound."""
    entry = session.get(Entry, entry_id)
    if entry is None:
        raise NotFound(f"no entry {entry_id}")
    return entry


def get_version(*, session: Session, version_id: int) -> EntryVersion:
    """Return a version or raise NotFound."""
    version = session.get(EntryVersion, version_id)
    if version is None:
        raise NotFound(f"no version {version_id}")
    return version


def open_version(*, session: Session, entry_id: int) -> EntryVersion | None:
    """Return the entry's version being worked on (draft, rejected or in review), if any."""
    return session.scalar(
        select(EntryVersion)
        .where(EntryVersion.entry_id == entry_id, EntryVersion.status.in_(OPEN_STATUSES))
        .order_by(EntryVersion.number.desc())
    )


@use_case
def edit(
    *,
    session: Session,
    actor: User,
    entry_id: int,
    base_version_id: int,
    base_row_version: int,
    draft: Draft,
) -> EntryVersion:
    """Save an edit made on `base_version_id` as seen at `base_row_version`; a stale base is refused."""
    entry = get_entry(session=session, entry_id=entry_id)
    base = get_version(session=session, version_id=base_version_id)
    if base.entry_id != entry.id:
        raise NotFound(f"version {base_version_id} is not part of entry {entry_id}")
    if base.row_version != base_row_version:
        raise StaleWrite("someone else saved this version first; reload to see their change")
    draft = draft.cleaned()
    current = open_version(session=session, entry_id=entry.id)
    if base.status == Status.APPROVED.value:
        if current is not None:
            raise StaleWrite(f"a newer draft (version {current.number}) exists already; edit that one")
        transition(Action.EDIT, status=Status.DRAFT, role=_role(actor), is_author=True)
        number = max(v.number for v in entry.versions) + 1
        before = snapshot(base)
        apply_entry_fields(session, entry, draft)
        version = new_version(entry, draft, number=number, author=actor)
        session.add(version)
        session.flush()
        audit.record(session, actor=actor, action=AuditAction.EDIT, version=version, before=before,
                     after=snapshot(version))
        _commit(session)
        return version
    transition(Action.EDIT, status=Status(base.status), role=_role(actor), is_author=base.author_id == actor.id)
    before = snapshot(base)
    base.question = draft.question
    base.alternates = draft.alternates
    base.answer = draft.answer
    base.variants = draft.variants
    base.placeholders = draft.placeholders
    base.review_by = draft.review_by
    base.status = Status.DRAFT.value
    if base.author_id is None:
        base.author_id = actor.id
    if actor.id not in {c.user_id for c in base.contributions}:
        base.contributions.append(VersionContributor(user_id=actor.id))
    apply_entry_fields(session, entry, draft)
    session.flush()
    audit.record(session, actor=actor, action=AuditAction.EDIT, version=base, before=before, after=snapshot(base))
    _commit(session)
    return base


def _move(
    session: Session,
    *,
    actor: User,
    action: Action,
    version_id: int,
    row_version: int | None,
    comment: str = "",
    allow_self_approval: bool = False,
) -> EntryVersion:
    version = get_version(session=session, version_id=version_id)
    if row_version is not None and version.row_version != row_version:
        raise StaleWrite("this version changed since you opened it; reload and try again")
    stage_move(session, actor=actor, action=action, version=version, comment=comment,
               allow_self_approval=allow_self_approval)
    _commit(session)
    return version


def stage_move(
    session: Session,
    *,
    actor: User,
    action: Action,
    version: EntryVersion,
    comment: str = "",
    allow_self_approval: bool = False,
) -> EntryVersion:
    """Move a version in the caller's transaction, audited, without committing (imports batch these)."""
    target = transition(
        action,
        status=Status(version.status),
        role=_role(actor),
        is_author=contributed(version, actor),
        comment=comment,
        allow_self_approval=allow_self_approval,
    )
    before = snapshot(version)
    version.status = target.value
    if comment:
        version.comment = comment.strip()
    now = utcnow()
    entry = version.entry
    if action is Action.SUBMIT:
        version.submitted_at = now
    elif action is Action.APPROVE:
        previous = entry.approved_version
        if previous is not None and previous.id != version.id:
            prev_before = snapshot(previous)
            previous.status = Status.SUPERSEDED.value
            session.flush()
            audit.record(session, actor=actor, action=AuditAction.SUPERSEDE, version=previous, before=prev_before,
                         after=snapshot(previous))
        version.approver_id = actor.id
        version.approved_at = now
        entry.approved_version = version
    elif action is Action.RETIRE:
        version.retired_at = now
        entry.approved_version = None
    session.flush()
    audit.record(session, actor=actor, action=AuditAction(action.value), version=version, before=before,
                 after=snapshot(version), comment=comment)
    return version


@use_case
def submit(*, session: Session, actor: User, version_id: int, row_version: int | None = None) -> EntryVersion:
    """Send a draft for review."""
    return _move(session, actor=actor, action=Action.SUBMIT, version_id=version_id, row_version=row_version)


@use_case
def withdraw(*, session: Session, actor: User, version_id: int, row_version: int | None = None) -> EntryVersion:
    """Take a version back from review to draft."""
    return _move(session, actor=actor, action=Action.WITHDRAW, version_id=version_id, row_version=row_version)


@use_case
def approve(
    *,
    session: Session,
    actor: User,
    version_id: int,
    row_version: int | None = None,
    allow_self_approval: bool = False,
) -> EntryVersion:
    """Approve a version in review; it replaces the entry's approved version and becomes suggestable."""
    return _move(
        session,
        actor=actor,
        action=Action.APPROVE,
        version_id=version_id,
        row_version=row_version,
        allow_self_approval=allow_self_approval,
    )


@use_case
def reject(
    *, session: Session, actor: User, version_id: int, comment: str, row_version: int | None = None
) -> EntryVersion:
    """Send a version in review back to its author with a comment."""
    return _move(
        session, actor=actor, action=Action.REJECT, version_id=version_id, row_version=row_version, comment=comment
    )


@use_case
def retire(*, session: Session, actor: User, entry_id: int, reason: str) -> EntryVersion:
    """Stop suggesting an entry: its approved version is retired."""
    entry = get_entry(session=session, entry_id=entry_id)
    if entry.approved_version_id is None:
        raise TransitionNotAllowed(f"entry {entry_id} has no approved version to retire")
    return _move(
        session, actor=actor, action=Action.RETIRE, version_id=entry.approved_version_id, row_version=None,
        comment=reason,
    )
