"""The suggest use case: from a customer's message to approved answers, an escalation, or no match."""
from __future__ import annotations

import datetime as dt
import time

import numpy as np
from sqlalchemy.orm import Session

from kb import suggestable
from kb.errors import NotFound, ValidationFailed
from kb.models import EntryVersion, Inquiry, utcnow
from suggest.engine import Engine
from suggest.escalation import notify, routing, screen
from suggest.matching.fusion import Candidate, label, rank
from suggest.matching.lexical import detect_language
from suggest.results import MAX_K, MAX_QUESTION, Outcome, Suggestion, SuggestRequest, SuggestResult

__all__ = ["MAX_K", "MAX_QUESTION", "FEEDBACK_ACTIONS", "SuggestRequest", "SuggestResult", "suggest",
           "record_feedback", "send_to_pr"]

RERANK_DEPTH = 10  # candidates re-read from the database per question (at least 2k)
FEEDBACK_ACTIONS = ("used", "edited", "not_helpful")


def _suggestion(version: EntryVersion, cand: Candidate, channel: str) -> Suggestion:
    entry = version.entry
    variants = version.variants or {}
    category = entry.category
    return Suggestion(
        entry_id=entry.id,
        version=version.number,
        question=version.question,
        answer=variants.get(channel) or version.answer,
        channel=channel if channel in variants else "web",
        score=round(cand.fused, 4),
        confidence=cand.confidence,
        approved_by=version.approver.display_name if version.approver else None,
        approved_at=version.approved_at.isoformat() + "Z" if version.approved_at else None,
        review_by=version.review_by.isoformat() if version.review_by else None,
        category=category.slug if category else None,
        route=routing.route(category),
        placeholders=list(version.placeholders or []),
        department_id=category.department_id if category and category.routed else None,
    )


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
    request = request.validated()
    engine.sync(session)
    lang = request.lang or detect_language(request.question)
    screening = screen.screen(session, engine, request.question, lang)
    ranked: list[Candidate] = []
    if screening.escalation is not None:
        result = SuggestResult(outcome=Outcome.ESCALATE, lang=lang, escalation=screening.escalation)
        if rank_always:  # evaluation scores the ranking whatever the outcome; agents never see it
            result.ranking = _match(session, engine, request, lang, today, screening.query)[0].ranking
    else:
        # Review-by dates expire by the calendar, not by a KB change, so the day is part of the cache key.
        key = (request.question, lang, request.channel, request.k, request.include_low, today or dt.date.today())
        cached = engine.cached(key)
        if cached is not None:
            result = SuggestResult(outcome=cached.outcome, lang=lang, suggestions=cached.suggestions,
                                   ranking=cached.ranking)
        else:
            result, ranked = _match(session, engine, request, lang, today, screening.query)
            engine.remember(key, result)
        result = _under_crisis(session, engine, request.question, result)
    result.took_ms = (time.perf_counter() - started) * 1000
    if record:
        result.inquiry_id = _record(session, request, result, source, user_id, api_key_id,
                                    screening.hit.rule_id if screening.hit else None, ranked)
    return result


def _under_crisis(session: Session, engine: Engine, question: str, result: SuggestResult) -> SuggestResult:
    """Turn an answer into the crisis's escalation when the question falls under a crisis in force."""
    top = result.suggestions[0] if result.suggestions and result.outcome is Outcome.ANSWER else None
    found = screen.crisis_for(session, engine, question, top.category if top else None,
                              [top.entry_id] if top else [])
    if found is None:
        return result
    return SuggestResult(outcome=Outcome.ESCALATE, lang=result.lang, escalation=found.escalation,
                         ranking=result.ranking, crisis_id=found.crisis_id)


def _match(
    session: Session, engine: Engine, request: SuggestRequest, lang: str, today: dt.date | None,
    query: np.ndarray | None = None,
) -> tuple[SuggestResult, list[Candidate]]:
    retrieval = engine.retrieve(request.question, lang, query=query)
    # The index is never trusted: the best candidates are re-read and kept only if still approved and unexpired,
    # and only then labelled and decided on.
    head = rank(retrieval.candidates, retrieval.cosine_range, retrieval.thresholds)[: max(RERANK_DEPTH, 2 * request.k)]
    live = suggestable.live_versions(session=session, version_ids=[c.version_id for c in head], today=today)
    decision = label([c for c in head if c.version_id in live], retrieval.thresholds)
    chosen: list[Candidate] = []
    seen_entries: set[int] = set()
    for cand in decision.ranked:
        if live[cand.version_id] in seen_entries:
            continue
        seen_entries.add(live[cand.version_id])
        if cand.confidence == "low" and not request.include_low:
            continue
        chosen.append(cand)
        if len(chosen) == request.k:
            break
    versions = suggestable.versions_for_display(session=session, version_ids=[c.version_id for c in chosen])
    result = SuggestResult(
        outcome=Outcome(decision.outcome), lang=lang,
        suggestions=[_suggestion(versions[c.version_id], c, request.channel or "web") for c in chosen],
        ranking=list(dict.fromkeys(live[c.version_id] for c in decision.ranked)), encode_ms=retrieval.encode_ms,
    )
    return result, decision.ranked


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
        outcome=result.outcome.value, top_entry_id=top.entry_id if top else None,
        top_score=top.score if top else (ranked[0].fused if ranked else None), rule_id=rule_id,
        user_id=user_id, api_key_id=api_key_id, created_at=now, took_ms=result.took_ms, crisis_id=result.crisis_id,
    )
    sla = None
    if result.escalation is not None:
        sla = result.escalation.sla
        inquiry.department_id = result.escalation.department_id
    elif top is not None and top.route is not None and result.outcome is Outcome.ANSWER:
        sla = top.route.sla
        inquiry.department_id = top.department_id
    if sla:
        inquiry.first_response_due = now + dt.timedelta(minutes=sla.first_response_minutes)
        inquiry.resolution_due = now + dt.timedelta(minutes=sla.resolution_minutes)
    session.add(inquiry)
    if result.escalation is not None:
        session.flush()
        esc = result.escalation
        notify.queue(session, subject=f"Escalation ({esc.kind}): {request.question[:120]}",
                     department_id=esc.department_id,
                     payload={"kind": esc.kind, "inquiry_id": inquiry.id, "question": request.question,
                              "channel": inquiry.channel, "department": esc.department,
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
