"""Red-flag rules as data: the kinds, the defaults, and the approvers' changes to them (audited)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kb import audit, owners
from kb import patterns as regexes
from kb.audit import AuditAction
from kb.default_rules import DEFAULT_RULES
from kb.errors import NotFound, PermissionDenied, StaleWrite, ValidationFailed
from kb.models import Department, RedFlagRule, User
from kb.storage import use_case
from kb.workflow import Role

KINDS = ("legal", "press", "safety", "privacy", "discrimination", "protest", "self_harm", "custom")

# Patterns run on RE2 (kb/patterns.py); these names stay for the callers that knew them here.
fold_pattern = regexes.fold
check_pattern = regexes.check


def list_rules(*, session: Session) -> list[RedFlagRule]:
    """Return every rule, active or not, by kind and language."""
    return list(session.scalars(select(RedFlagRule).order_by(RedFlagRule.kind, RedFlagRule.lang, RedFlagRule.id)))


def active_rules(*, session: Session) -> list[RedFlagRule]:
    """Return every active rule with its department and contacts, as the database holds them now (not as a
    long-lived session loaded them before: what this returns is kept for a whole KB generation)."""
    return list(
        session.scalars(
            select(RedFlagRule)
            .where(RedFlagRule.active.is_(True))
            .options(selectinload(RedFlagRule.department).selectinload(Department.contacts))
            .order_by(RedFlagRule.id)
            .execution_options(populate_existing=True)
        )
    )


def ensure_default_rules(*, session: Session) -> int:
    """Add the default red-flag rules that are missing (by kind, language and name); return how many."""
    existing = {(r.kind, r.lang, r.name) for r in session.scalars(select(RedFlagRule))}
    departments = {d.slug: d for d in session.scalars(select(Department))}
    added = 0
    for spec in DEFAULT_RULES:
        if (spec["kind"], spec["lang"], spec["name"]) in existing:
            continue
        session.add(
            RedFlagRule(
                kind=spec["kind"], name=spec["name"], lang=spec["lang"], keywords=list(spec["keywords"]),
                patterns=list(spec.get("patterns", [])), examples=list(spec.get("examples", [])),
                department=departments.get(spec["department"]), holding_statement=spec["holding"],
                severity=spec["severity"],
            )
        )
        added += 1
    session.commit()
    return added


@use_case
def save_rule(
    *, session: Session, actor: User, rule_id: int | None, row_version: int | None, kind: str, name: str, lang: str,
    keywords: list[str], patterns: list[str], department: str | None, holding_statement: str, severity: int,
    active: bool,
) -> RedFlagRule:
    """Create or change a red-flag rule (approvers); audited, and every worker applies it at once."""
    if not Role(actor.role).at_least(Role.APPROVER):
        raise PermissionDenied("red-flag rules are changed by approvers")
    if kind not in KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(KINDS)}")
    if not keywords and not patterns:
        raise ValidationFailed("a rule needs at least one keyword or pattern")
    for pattern in patterns:
        problem = check_pattern(pattern)
        if problem:
            raise ValidationFailed(f"pattern {pattern!r} is not a valid regular expression here: {problem}")
    if not 1 <= severity <= 5:
        raise ValidationFailed("severity is 1 to 5")
    if rule_id:
        rule = session.get(RedFlagRule, rule_id)
        if rule is None:
            raise NotFound(f"no rule {rule_id}")
        if row_version is not None and rule.row_version != row_version:
            raise StaleWrite("someone else changed this rule first; reload to see their change")
        before = _snapshot(rule)
    else:
        rule = RedFlagRule()
        session.add(rule)
        before = None
    rule.kind, rule.name, rule.lang = kind, name.strip(), lang
    rule.keywords, rule.patterns = keywords, patterns
    rule.department = owners.get_department(session=session, slug=department) if department else None
    rule.holding_statement, rule.severity, rule.active = holding_statement.strip(), severity, active
    session.flush()
    audit.record(session, actor=actor, action=AuditAction.RED_FLAG_RULE_SAVE, before=before, after=_snapshot(rule))
    session.commit()
    return rule


def _snapshot(rule: RedFlagRule) -> dict[str, object]:
    return {"rule": rule.id, "kind": rule.kind, "name": rule.name, "lang": rule.lang,
            "keywords": list(rule.keywords or []), "patterns": list(rule.patterns or []),
            "department": rule.department.slug if rule.department else None,
            "holding_statement": rule.holding_statement, "severity": rule.severity, "active": rule.active}


def _approver_rule(session: Session, actor: User, rule_id: int, row_version: int | None) -> RedFlagRule:
    if not Role(actor.role).at_least(Role.APPROVER):
        raise PermissionDenied("red-flag rules are changed by approvers")
    rule = session.get(RedFlagRule, rule_id)
    if rule is None:
        raise NotFound(f"no rule {rule_id}")
    if row_version is not None and rule.row_version != row_version:
        raise StaleWrite("someone else changed this rule first; reload to see their change")
    return rule


def get_rule(*, session: Session, rule_id: int) -> RedFlagRule:
    """Return one rule."""
    rule = session.get(RedFlagRule, rule_id)
    if rule is None:
        raise NotFound(f"no rule {rule_id}")
    return rule


@use_case
def set_active(*, session: Session, actor: User, rule_id: int, active: bool, row_version: int | None = None
               ) -> RedFlagRule:
    """Switch a rule on or off (approvers); audited with before and after."""
    rule = _approver_rule(session, actor, rule_id, row_version)
    before = _snapshot(rule)
    rule.active = active
    session.flush()
    audit.record(session, actor=actor, action=AuditAction.RED_FLAG_RULE_SAVE, before=before, after=_snapshot(rule))
    session.commit()
    return rule


@use_case
def remove_rule(*, session: Session, actor: User, rule_id: int, row_version: int | None = None) -> None:
    """Remove a rule for good (approvers); the audit keeps what it was."""
    rule = _approver_rule(session, actor, rule_id, row_version)
    before = _snapshot(rule)
    session.delete(rule)
    audit.record(session, actor=actor, action=AuditAction.RED_FLAG_RULE_REMOVE, before=before)
    session.commit()
