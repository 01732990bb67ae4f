"""Crisis detection: which crisis in force, if any, a question falls under."""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from kb import crises
from kb.redflags import fold_pattern
from suggest.escalation.routing import crisis_escalation
from suggest.matching.lexical import normalise
from suggest.results import Escalation


@dataclass(frozen=True)
class ActiveCrisis:
    crisis_id: int
    name: str
    category: str | None
    entry_ids: frozenset[int]
    pattern: re.Pattern[str] | None
    escalation: Escalation

    def matches(self, text: str, category: str | None, entry_ids: list[int]) -> bool:
        """Say whether a question (its text, and where matching put it) falls under this crisis."""
        if self.pattern is not None and self.pattern.search(normalise(text)):
            return True
        if self.category is not None and category == self.category:
            return True
        return bool(self.entry_ids.intersection(entry_ids))


def compile_active(*, session: Session) -> list[ActiveCrisis]:
    """Return the active crises ready to match questions."""
    out = []
    for c in crises.list_active(session=session):
        pattern = None
        if c.pattern:
            try:
                pattern = re.compile(fold_pattern(c.pattern), re.IGNORECASE)
            except re.error:
                pattern = None
        out.append(ActiveCrisis(
            crisis_id=c.id, name=c.name, category=c.category.slug if c.category else None,
            entry_ids=frozenset(int(i) for i in c.entry_ids or []), pattern=pattern,
            escalation=crisis_escalation(c),
        ))
    return out
