"""Crisis detection: which crisis in force, if any, a question falls under."""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from kb import crises, patterns
from kb.models import RedFlagRule
from suggest.escalation import detect
from suggest.escalation.routing import crisis_escalation
from suggest.matching.lexical import normalise
from suggest.results import Escalation

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActiveCrisis:
    crisis_id: int
    name: str
    categories: frozenset[str]
    entry_ids: frozenset[int]
    words: detect.CompiledRule | None  # the crisis's words and phrases, matched like a red-flag rule's
    pattern: patterns.Matcher | None
    escalation: Escalation
    statements: dict[str, str]  # holding statement per language

    def matches(self, text: str, category: str | None, entry_ids: list[int]) -> bool:
        """Say whether a question (its text, and where matching put it) falls under this crisis."""
        if self.pattern is not None and self.pattern.search(normalise(text)):
            return True
        if self.words is not None and detect.detect(text, [self.words]) is not None:
            return True
        if category is not None and category in self.categories:
            return True
        return bool(self.entry_ids.intersection(entry_ids))

    def escalation_in(self, lang: str) -> Escalation:
        """Return the escalation with the holding statement in the question's language, where there is one."""
        statement = self.statements.get(lang)
        return replace(self.escalation, holding_statement=statement) if statement else self.escalation


def compile_active(*, session: Session) -> list[ActiveCrisis]:
    """Return the active crises ready to match questions."""
    out = []
    for c in crises.list_active(session=session):
        pattern = None
        if c.pattern:
            try:
                pattern = patterns.compile_pattern(c.pattern)
            except ValueError as exc:  # saved before patterns were checked for RE2; the other criteria still hold
                log.warning("crisis %s: pattern %r skipped: %s", c.id, c.pattern, exc)
        categories = set(c.categories or []) | ({c.category.slug} if c.category else set())
        words = (detect.compile_rule(RedFlagRule(id=0, kind="crisis", lang="*", severity=5,
                                                 keywords=list(c.keywords), patterns=[]))
                 if c.keywords else None)
        out.append(ActiveCrisis(
            crisis_id=c.id, name=c.name, categories=frozenset(categories),
            entry_ids=frozenset(int(i) for i in c.entry_ids or []), words=words, pattern=pattern,
            escalation=crisis_escalation(c), statements=dict(c.holding_statements or {}),
        ))
    return out
