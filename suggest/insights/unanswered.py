"""The unanswered-questions queue: questions with no approved answer, near-duplicates clustered together."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kb import audit
from kb.audit import AuditAction
from kb.models import Inquiry, utcnow
from kb.storage import use_case
from suggest.matching.lexical import analyse

SIMILARITY = 0.5  # Jaccard overlap of token forms at which two questions count as one
EXAMPLES = 3


@dataclass
class Cluster:
    lang: str
    examples: list[str] = field(default_factory=list)
    count: int = 0
    sent_by_agents: int = 0
    last_at: dt.datetime | None = None
    inquiry_ids: list[int] = field(default_factory=list)
    _terms: set[str] = field(default_factory=set, repr=False)

    @property
    def label(self) -> str:
        """Return the question that represents the cluster."""
        return self.examples[0] if self.examples else ""


def _term_set(text: str) -> set[str]:
    return {form for forms in analyse(text) for form in forms}


def similarity(a: set[str], b: set[str]) -> float:
    """Return the Jaccard overlap of two term sets."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def cluster_texts(items: list[tuple[int, str, str, bool, dt.datetime]]) -> list[Cluster]:
    """Group (id, text, lang, sent_to_pr, at) items greedily by term overlap; biggest clusters first."""
    clusters: list[Cluster] = []
    for inquiry_id, text, lang, sent, at in items:
        terms = _term_set(text)
        best, best_sim = None, 0.0
        for c in clusters:
            if c.lang != lang:
                continue
            sim = similarity(terms, c._terms)
            if sim > best_sim:
                best, best_sim = c, sim
        if best is None or best_sim < SIMILARITY:
            best = Cluster(lang=lang, _terms=set(terms))
            clusters.append(best)
        best.count += 1
        best.sent_by_agents += sent
        best.inquiry_ids.append(inquiry_id)
        best.last_at = max(best.last_at or at, at)
        normalised = text.strip()
        if len(best.examples) < EXAMPLES and normalised not in best.examples:
            best.examples.append(normalised)
    return sorted(clusters, key=lambda c: (-c.count, -(c.last_at or dt.datetime.min).timestamp()))


def clusters(*, session: Session, days: int = 30, limit: int = 2000) -> list[Cluster]:
    """Return the last `days` of unanswered or sent-to-PR questions, clustered."""
    since = utcnow() - dt.timedelta(days=days)
    rows = session.execute(
        select(Inquiry.id, Inquiry.text, Inquiry.lang, Inquiry.sent_to_pr, Inquiry.created_at)
        .where(Inquiry.created_at >= since, Inquiry.source != "eval", Inquiry.dismissed_at.is_(None),
               or_(Inquiry.outcome == "no_match", Inquiry.sent_to_pr.is_(True)))
        .order_by(Inquiry.id.desc())
        .limit(limit)
    ).all()
    return cluster_texts([(i, text, lang, sent, at) for i, text, lang, sent, at in rows])


@use_case
def dismiss(*, session: Session, inquiry_ids: list[int], user_id: int) -> int:
    """Take questions out of the queue (they stay in the record); return how many."""
    now = utcnow()
    count = 0
    for inquiry in session.scalars(select(Inquiry).where(Inquiry.id.in_(inquiry_ids))):
        if inquiry.dismissed_at is None:
            inquiry.dismissed_at = now
            count += 1
    audit.record(session, actor=user_id, action=AuditAction.UNANSWERED_DISMISS, after={"inquiries": inquiry_ids})
    session.commit()
    return count
