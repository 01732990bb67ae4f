"""The suggest use case: from a customer's message to approved answers, an escalation, or no match."""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from kb import content, owners, suggestable
from kb.errors import NotFound, ValidationFailed
from kb.models import Category, EntryVersion, Inquiry, utcnow
from suggest import flags, notify
from suggest.crisis import ActiveCrisis
from suggest.engine import Engine
from suggest.lexical import detect_language
from suggest.matching import Candidate, decide

MAX_QUESTION = 4000
MAX_K = 10
RERANK_DEPTH = 10  # candidates re-read from the database per question (at least 2k)
FEEDBACK_ACTIONS = ("used", "edited", "not_helpful")


@dataclass
class SuggestRequest:
    question: str
    channel: str | None = None
    lang: str | None = None
    k: int = 3
    include_low: bool = False


@dataclass
class SuggestResult:
    outcome: str
    lang: str
    suggestions: list[dict[str, Any]] = field(default_factory=list)
    escalation: dict[str, Any] | None = None
    inquiry_id: int | None = None
    took_ms: float = 0.0
    ranking: list[int] = field(default_factory=list)  # entry ids best first, whatever the outcome
    encode_ms: float = 0.0
    crisis_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        """Return the API's response body."""
        return {
            "outcome": self.outcome,
            "suggestions": [{k: v for k, v in s.items() if not k.startswith("_")} for s in self.suggestions],
            "escalation": {k: v for k, v in self.escalation.items() if not k.startswith("_")}
            if self.escalation else None,
            "inquiry_id": self.inquiry_id,
            "lang": self.lang,
            "took_ms": round(self.took_ms, 2),
        }


def validate(request: SuggestRequest) -> SuggestRequest:
    """Check a request's values and return it cleaned, or raise ValidationFailed."""
    if not isinstance(request.question, str) or not request.question.strip():
        raise ValidationFailed("question must be a non-empty string")
    if len(request.question) > MAX_QUESTION:
        raise ValidationFailed(f"question is longer than {MAX_QUESTION} characters")
    if isinstance(request.k, bool) or not isinstance(request.k, int) or not 1 <= request.k <= MAX_K:
        raise ValidationFailed(f"k must be a whole number from 1 to {MAX_K}")
    channel = content.normalise_channel(request.channel)
    lang = request.lang
    if lang is not None:
        if not isinstance(lang, str) or not (2 <= len(lang) <= 8) or not lang.replace("-", "").isalpha():
            raise ValidationFailed("lang must be a language code such as he or en")
        lang = lang.lower().split("-")[0]
    return SuggestRequest(request.question.strip(), channel, lang, request.k, request.include_low)


def _route(category: Category | None) -> dict[str, Any] | None:
    if category is None or not category.routed or category.department is None:
        return None
    return {"department": category.department.name, "contacts": owners.contacts_for(category.department),
            "sla": _sla(category)}


def _sla(category: Category | None) -> dict[str, int] | None:
    if category is None:
        return None
    return {"first_response_minutes": category.first_response_minutes,
            "resolution_minutes": category.resolution_minutes}


def _suggestion(version: EntryVersion, cand: Candidate, channel: str) -> dict[str, Any]:
    entry = version.entry
    variants = version.variants or {}
    text = variants.get(channel) or version.answer
    return {
        "entry_id": entry.id,
        "version": version.number,
        "question": version.question,
        "answer": text,
        "channel": channel if channel in variants else "web",
        "score": round(cand.fused, 4),
        "confidence": cand.confidence,
        "approved_by": version.approver.display_name if version.approver else None,
        "approved_at": version.approved_at.isoformat() + "Z" if version.approved_at else None,
        "review_by": version.review_by.isoformat() if version.review_by else None,
        "category": entry.category.slug if entry.category else None,
        "route": _route(entry.category),
        "placeholders": list(version.placeholders or []),
        "_department_id": entry.category.department_id if entry.category and entry.category.routed else None,
    }


def suggest(
    *,
    session: Session,
    engine: Engine,
    request: SuggestRequest,
    source: str = "api",
    user_id: int | None = None,
    api_key_id: int | None = None,
    record: bool = True,
    today: dt.date | None = None,
    rank_always: bool = False,
) -> SuggestResult:
    """Answer one message: escalate a red flag, else suggest approved answers, else say there is none."""
    started = time.perf_counter()
    request = validate(request)
    engine.sync(session)
    lang = request.lang or detect_language(request.question)
    compiled, escalations = engine.red_flags(session)
    hit = flags.detect(request.question, compiled)
    query = None
    if hit is None and engine.flag_examples(session):
        # Example messages catch red flags worded in ways no keyword foresaw; the vector is reused below.
        query, _ = engine.encode_query(request.question, lang)
        rule_id = engine.similar_example(session, query, lang, engine.example_match)
        if rule_id is not None:
            hit = flags.FlagHit(rule_id, escalations[rule_id]["kind"], "example")
    # Review-by dates expire by the calendar, not by a KB change, so the day is part of the cache key.
    key = (request.question, lang, request.channel, request.k, request.include_low, today or dt.date.today())
    if hit is not None:
        result = SuggestResult(outcome="escalate", lang=lang, escalation=dict(escalations[hit.rule_id]))
        ranking_source: list[Candidate] = []
        if rank_always:  # evaluation scores the ranking whatever the outcome; agents never see it
            result.ranking = _match(session, engine, request, lang, today, query)[0].ranking
    else:
        cached = engine.cached(key)
        if cached is not None:
            result = SuggestResult(outcome=cached.outcome, lang=lang, suggestions=cached.suggestions,
                                   ranking=cached.ranking)
            ranking_source = []
        else:
            result, ranking_source = _match(session, engine, request, lang, today, query)
            engine.remember(key, result)
        crisis = _crisis_for(engine, session, request.question, result)
        if crisis is not None:
            result = SuggestResult(outcome="escalate", lang=lang, escalation=dict(crisis.escalation),
                                   ranking=result.ranking, crisis_id=crisis.crisis_id)
    result.took_ms = (time.perf_counter() - started) * 1000
    if record:
        result.inquiry_id = _record(session, request, result, source, user_id, api_key_id,
                                    hit.rule_id if hit else None, ranking_source)
    return result


def _crisis_for(engine: Engine, session: Session, question: str, result: SuggestResult) -> ActiveCrisis | None:
    """Return the crisis in force that this question falls under, if any."""
    crises = engine.crises(session)
    if not crises:
        return None
    top = result.suggestions[0] if result.suggestions else None
    category = top["category"] if top and result.outcome == "answer" else None
    entries = [top["entry_id"]] if top and result.outcome == "answer" else []
    return next((c for c in crises if c.matches(question, category, entries)), None)


def _match(
    session: Session, engine: Engine, request: SuggestRequest, lang: str, today: dt.date | None,
    query: Any = None,
) -> tuple[SuggestResult, list[Candidate]]:
    retrieval = engine.retrieve(request.question, lang, query=query)
    decision = decide(retrieval.candidates, retrieval.cosine_range, retrieval.thresholds)
    # The index is never trusted: the best candidates are re-read and kept only if still approved and unexpired.
    head = decision.ranked[: max(RERANK_DEPTH, 2 * request.k)]
    live = suggestable.live_versions(session=session, version_ids=[c.version_id for c in head], today=today)
    ranked = [c for c in head if c.version_id in live]
    outcome = "answer" if ranked and ranked[0].fused >= retrieval.thresholds.answer else "no_match"
    chosen: list[Candidate] = []
    seen_entries: set[int] = set()
    for cand in ranked:
        if live[cand.version_id] in seen_entries:
            continue
        seen_entries.add(live[cand.version_id])
        if cand.confidence == "low" and not request.include_low:
            continue
        chosen.append(cand)
        if len(chosen) == request.k:
            break
    versions = suggestable.versions_for_display(session=session, version_ids=[c.version_id for c in chosen])
    suggestions = [_suggestion(versions[c.version_id], c, request.channel or "web") for c in chosen]
    result = SuggestResult(
        outcome=outcome, lang=lang, suggestions=suggestions,
        ranking=list(dict.fromkeys(live[c.version_id] for c in ranked)), encode_ms=retrieval.encode_ms,
    )
    return result, ranked


def _record(
    session: Session,
    request: SuggestRequest,
    result: SuggestResult,
    source: str,
    user_id: int | None,
    api_key_id: int | None,
    rule_id: int | None,
    ranked: list[Candidate],
) -> int:
    now = utcnow()
    top = result.suggestions[0] if result.suggestions else None
    inquiry = Inquiry(
        text=request.question, lang=result.lang, channel=request.channel or "web", source=source,
        outcome=result.outcome, top_entry_id=top["entry_id"] if top else None,
        top_score=top["score"] if top else (ranked[0].fused if ranked else None), rule_id=rule_id,
        user_id=user_id, api_key_id=api_key_id, created_at=now, took_ms=result.took_ms, crisis_id=result.crisis_id,
    )
    sla = None
    if result.escalation is not None:
        sla = result.escalation["sla"]
        inquiry.department_id = result.escalation.get("_department_id")
    elif top is not None and top["route"] is not None and result.outcome == "answer":
        sla = top["route"]["sla"]
        inquiry.department_id = top.get("_department_id")
    if sla:
        inquiry.first_response_due = now + dt.timedelta(minutes=sla["first_response_minutes"])
        inquiry.resolution_due = now + dt.timedelta(minutes=sla["resolution_minutes"])
    session.add(inquiry)
    if result.escalation is not None:
        session.flush()
        esc = result.escalation
        notify.queue(session, subject=f"Escalation ({esc['kind']}): {request.question[:120]}",
                     department_id=esc.get("_department_id"),
                     payload={"kind": esc["kind"], "inquiry_id": inquiry.id, "question": request.question,
                              "channel": inquiry.channel, "department": esc["department"],
                              "first_response_due": inquiry.first_response_due.isoformat() + "Z"
                              if inquiry.first_response_due else None})
    session.commit()
    return inquiry.id


def record_feedback(
    *, session: Session, inquiry_id: int, entry_id: int | None, version: int | None, action: str,
    sent_text: str | None = None, user_id: int | None = None, api_key_id: int | None = None,
) -> Inquiry:
    """Record what the agent did with a suggestion: used, edited before sending, or not helpful."""
    if action not in FEEDBACK_ACTIONS:
        raise ValidationFailed(f"action must be one of {', '.join(FEEDBACK_ACTIONS)}")
    inquiry = session.get(Inquiry, inquiry_id)
    if inquiry is None or not _owns(inquiry, user_id=user_id, api_key_id=api_key_id):
        raise NotFound(f"no inquiry {inquiry_id}")
    if sent_text is not None and len(sent_text) > 10_000:
        raise ValidationFailed("sent_text is longer than 10000 characters")
    inquiry.chosen_entry_id = entry_id
    inquiry.chosen_version = version
    inquiry.feedback = action
    inquiry.sent_text = sent_text
    session.commit()
    return inquiry


def send_to_pr(
    *, session: Session, inquiry_id: int, user_id: int | None, api_key_id: int | None = None
) -> Inquiry:
    """Put an unanswered question in PR's queue of missing answers."""
    inquiry = session.get(Inquiry, inquiry_id)
    if inquiry is None or not _owns(inquiry, user_id=user_id, api_key_id=api_key_id):
        raise NotFound(f"no inquiry {inquiry_id}")
    inquiry.sent_to_pr = True
    session.commit()
    return inquiry


def _owns(inquiry: Inquiry, *, user_id: int | None, api_key_id: int | None) -> bool:
    """Say whether the caller asked this question: the same API key, or the same signed-in agent."""
    if api_key_id is not None:
        return inquiry.api_key_id == api_key_id
    return user_id is not None and inquiry.user_id == user_id
