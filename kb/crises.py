"""Crisis records: while a topic is in crisis, every question on it gets the holding statement and escalates."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kb import audit, owners, patterns
from kb.audit import AuditAction
from kb.errors import NotFound, PermissionDenied, ValidationFailed
from kb.models import Category, Crisis, Department, User, utcnow
from kb.storage import use_case
from kb.workflow import Role


@use_case
def start(
    *, session: Session, actor: User, name: str, holding_statement: str = "", category: str | None = None,
    entry_ids: list[int] | None = None, pattern: str = "", department: str | None = None,
    categories: list[str] | None = None, keywords: list[str] | None = None,
    holding_statements: dict[str, str] | None = None,
) -> Crisis:
    """Put a topic into crisis mode (approvers only); audited, and every worker picks it up at once.

    It covers categories, entries, and words or phrases in the message (a regular expression only if asked);
    the holding statement is given per language, the first one standing in for languages without their own.
    """
    if not Role(actor.role).at_least(Role.APPROVER):
        raise PermissionDenied("crisis mode needs an approver")
    statements = {lang: text.strip() for lang, text in (holding_statements or {}).items() if text and text.strip()}
    fallback = holding_statement.strip() or next(iter(statements.values()), "")
    slugs = list(dict.fromkeys([*(categories or []), *([category] if category else [])]))
    words = [k.strip() for k in keywords or [] if k.strip()]
    if not name.strip() or not fallback:
        raise ValidationFailed("a crisis needs a name and a holding statement")
    if not (slugs or entry_ids or words or pattern.strip()):
        raise ValidationFailed("say what the crisis covers: categories, entries, or words in the message")
    if pattern.strip():
        problem = patterns.check(pattern.strip())
        if problem:
            raise ValidationFailed(f"the pattern is not a valid regular expression here: {problem}")
    found = {c.slug: c for c in session.scalars(select(Category).where(Category.slug.in_(slugs)))} if slugs else {}
    unknown = [s for s in slugs if s not in found]
    if unknown:
        raise ValidationFailed(f"unknown category {unknown[0]!r}")
    first = found[slugs[0]] if slugs else None
    dept = owners.get_department(session=session, slug=department) if department else None
    crisis = Crisis(name=name.strip(), holding_statement=fallback, holding_statements=statements, category=first,
                    categories=slugs, keywords=words, entry_ids=[str(i) for i in entry_ids or []],
                    pattern=pattern.strip(),
                    department=dept or (first.department if first else None) or
                    owners.find_department(session=session, slug="spokesperson"),
                    started_by_id=actor.id)
    session.add(crisis)
    session.flush()
    audit.record(session, actor=actor, action=AuditAction.CRISIS_START,
                 after={"crisis": crisis.id, "name": crisis.name, "categories": slugs, "keywords": words,
                        "entries": entry_ids or [], "pattern": crisis.pattern, "statements": sorted(statements)})
    session.commit()
    return crisis


@use_case
def end(*, session: Session, actor: User, crisis_id: int) -> Crisis:
    """Turn crisis mode off; audited."""
    if not Role(actor.role).at_least(Role.APPROVER):
        raise PermissionDenied("crisis mode needs an approver")
    crisis = session.get(Crisis, crisis_id)
    if crisis is None:
        raise NotFound(f"no crisis {crisis_id}")
    if crisis.active:
        crisis.active = False
        crisis.ended_at = utcnow()
        crisis.ended_by_id = actor.id
        audit.record(session, actor=actor, action=AuditAction.CRISIS_END,
                     after={"crisis": crisis.id, "name": crisis.name})
        session.commit()
    return crisis


def list_active(*, session: Session) -> list[Crisis]:
    """Return the crises in force, newest first, as the database holds them now (what this returns is kept for a
    whole KB generation, so a long-lived session's older copies must not pass for it)."""
    return list(session.scalars(
        select(Crisis).where(Crisis.active.is_(True))
        .options(selectinload(Crisis.category), selectinload(Crisis.department).selectinload(Department.contacts))
        .order_by(Crisis.id.desc())
        .execution_options(populate_existing=True)
    ))


def list_all(*, session: Session, limit: int = 50) -> list[Crisis]:
    """Return recent crises, active or not."""
    return list(session.scalars(select(Crisis).options(selectinload(Crisis.category))
                                .order_by(Crisis.id.desc()).limit(limit)))
