"""Red-flag detection: messages that must go to an in-house person, never to a library answer."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kb import owners, storage
from kb.errors import NotFound, PermissionDenied, StaleWrite, ValidationFailed
from kb.models import AuditEvent, Department, RedFlagRule, User
from kb.workflow import Role
from suggest.default_rules import DEFAULT_RULES
from suggest.lexical import analyse, normalise

# In-house response times for escalations: the first answer within 15 minutes, resolution by severity.
SLA_FIRST_RESPONSE = 15
SLA_RESOLUTION = {1: 24 * 60, 2: 8 * 60, 3: 4 * 60, 4: 2 * 60, 5: 60}

KINDS = ("legal", "press", "safety", "privacy", "discrimination", "protest", "self_harm", "custom")


@dataclass(frozen=True)
class CompiledRule:
    rule_id: int
    kind: str
    lang: str
    severity: int
    phrases: tuple[tuple[frozenset[str], ...], ...]  # each keyword: per token, the forms that match it
    patterns: tuple[re.Pattern[str], ...]


@dataclass(frozen=True)
class FlagHit:
    rule_id: int
    kind: str
    matched: str


def compile_rule(rule: RedFlagRule) -> CompiledRule:
    """Normalise a rule's keywords and patterns the same way messages are normalised."""
    phrases = []
    for keyword in rule.keywords or []:
        tokens = tuple(_keyword_forms(forms) for forms in analyse(keyword, keep_stop=True))
        if tokens:
            phrases.append(tokens)
    patterns = []
    for pattern in rule.patterns or []:
        try:
            patterns.append(re.compile(fold_pattern(pattern), re.IGNORECASE))
        except re.error:
            continue  # the console refuses invalid patterns; an old bad one must not stop detection
    return CompiledRule(rule.id, rule.kind, rule.lang, rule.severity, tuple(phrases), tuple(patterns))


def _keyword_forms(forms: list[str]) -> frozenset[str]:
    # A message word matches through any of its prefix-stripped forms. A rule word keeps its own prefix,
    # since "לתקשורת" (to the media) is not "תקשורת" (connectivity); only the article ה is let go, so that
    # "הרשות" in a rule matches "לרשות" in a message.
    word = forms[0]
    if word.startswith("ה") and len(word) >= 4:
        return frozenset([word, word[1:]])
    return frozenset([word])


def fold_pattern(pattern: str) -> str:
    """Fold a regular expression like message text (final letters, geresh) without breaking its syntax."""
    return pattern.translate(_PATTERN_FOLD)


_PATTERN_FOLD = str.maketrans({"ך": "כ", "ם": "מ", "ן": "נ", "ף": "פ", "ץ": "צ", "׳": "'", "״": '"'})


def check_pattern(pattern: str) -> str | None:
    """Return why a pattern is invalid, or None."""
    try:
        re.compile(pattern)
    except re.error as exc:
        return str(exc)
    return None


def _phrase_at(message: list[list[str]], phrase: tuple[frozenset[str], ...]) -> bool:
    n = len(phrase)
    for start in range(len(message) - n + 1):
        if all(not phrase[i].isdisjoint(message[start + i]) for i in range(n)):
            return True
    return False


def detect(text: str, rules: list[CompiledRule]) -> FlagHit | None:
    """Return the most severe rule the message trips, or None."""
    tokens = analyse(text, keep_stop=True)
    present = {form for forms in tokens for form in forms}
    folded = normalise(text)
    hits: list[tuple[int, FlagHit]] = []
    for rule in rules:
        for phrase in rule.phrases:
            # Most phrases share no word with a message at all; skip those before scanning positions.
            if phrase[0].isdisjoint(present):
                continue
            if _phrase_at(tokens, phrase):
                hits.append((rule.severity, FlagHit(rule.rule_id, rule.kind, " ".join(min(f) for f in phrase))))
                break
        else:
            for pattern in rule.patterns:
                found = pattern.search(folded)
                if found:
                    hits.append((rule.severity, FlagHit(rule.rule_id, rule.kind, found.group(0))))
                    break
    if not hits:
        return None
    return max(hits, key=lambda h: h[0])[1]


def active_rules(*, session: Session) -> list[RedFlagRule]:
    """Return every active rule with its department."""
    return list(
        session.scalars(
            select(RedFlagRule)
            .where(RedFlagRule.active.is_(True))
            .options(selectinload(RedFlagRule.department).selectinload(Department.contacts))
            .order_by(RedFlagRule.id)
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
    if added:
        storage.bump_generation(session)  # escalation rules decide what may be answered
    session.commit()
    return added


def escalation_for(rule: RedFlagRule) -> dict[str, Any]:
    """Return what an agent is shown when a rule trips: who takes over, what to post meanwhile, by when."""
    dept = rule.department
    return {
        "kind": rule.kind,
        "rule_id": rule.id,
        "department": dept.name if dept else None,
        "contacts": owners.contacts_for(dept),
        "holding_statement": rule.holding_statement,
        "sla": {"first_response_minutes": SLA_FIRST_RESPONSE, "resolution_minutes": SLA_RESOLUTION[rule.severity]},
        "_department_id": rule.department_id,  # for notifications; never sent to clients
    }


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
        problem = check_pattern(fold_pattern(pattern))
        if problem:
            raise ValidationFailed(f"pattern {pattern!r} is not a valid regular expression: {problem}")
    if not 1 <= severity <= 5:
        raise ValidationFailed("severity is 1 to 5")
    if rule_id:
        rule = session.get(RedFlagRule, rule_id)
        if rule is None:
            raise NotFound(f"no rule {rule_id}")
        if row_version is not None and rule.row_version != row_version:
            raise StaleWrite("someone else changed this rule first; reload to see their change")
        before = {"keywords": rule.keywords, "patterns": rule.patterns, "active": rule.active}
    else:
        rule = RedFlagRule()
        session.add(rule)
        before = None
    rule.kind, rule.name, rule.lang = kind, name.strip(), lang
    rule.keywords, rule.patterns = keywords, patterns
    rule.department = owners.get_department(session=session, slug=department) if department else None
    rule.holding_statement, rule.severity, rule.active = holding_statement.strip(), severity, active
    session.flush()
    session.add(AuditEvent(actor_id=actor.id, action="red_flag_rule_save", before=before,
                           after={"rule": rule.id, "kind": kind, "keywords": keywords, "patterns": patterns,
                                  "active": active}))
    storage.bump_generation(session)
    session.commit()
    return rule
