"""The suggest use case: from a customer's message to approved answers, an escalation, or no match."""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import time

from sqlalchemy.orm import Session

from kb import content, suggestable
from suggest import inquiries
from suggest.engine import Engine
from suggest.escalation import routing, screen
from suggest.matching import confidence
from suggest.matching.batching import PendingVector
from suggest.matching.fusion import Candidate, Decision, label, rank
from suggest.matching.lexical import LexicalHit, detect_language
from suggest.results import Outcome, Route, Suggestion, SuggestRequest, SuggestResult

RERANK_DEPTH = 10  # candidates checked against the database per question (at least 2k)


@dataclasses.dataclass(frozen=True)
class _Filed:
    """Where a category files an answer: its slug, the department that owns it and the response times."""

    slug: str
    route: Route | None
    department_id: int | None  # where an answered question is owed, for a routed category

    @classmethod
    def every(cls, session: Session) -> dict[int, _Filed]:
        return {c.id: cls(c.slug, routing.route(c), c.department_id if c.routed else None)
                for c in suggestable.categories(session=session)}


@dataclasses.dataclass(frozen=True)
class _Shown:
    """What a suggestion of one version shows, on any channel: kept for a KB generation, so plain data only. Its
    texts are cleaned the first time the version is suggested, not each time it is a candidate."""

    served: suggestable.Served
    approver: str | None
    filed: _Filed | None

    @functools.cached_property
    def suggestion(self) -> Suggestion:
        """The suggestion with the version's own answer; score and confidence are each question's."""
        served, filed = self.served, self.filed
        # Stored text is plain since it was saved; versions saved before that are cleaned on the way out too.
        return Suggestion(
            entry_id=served.entry_id,
            version=served.number,
            question=content.strip_markup(served.question),
            answer=content.strip_markup(served.answer),
            channel="web",
            score=0.0,
            confidence="",
            approved_by=self.approver,
            approved_at=served.approved_at.isoformat() + "Z" if served.approved_at else None,
            review_by=served.review_by.isoformat() if served.review_by else None,
            category=filed.slug if filed else None,
            route=filed.route if filed else None,
            placeholders=list(served.placeholders),
            department_id=filed.department_id if filed else None,
        )

    @functools.cached_property
    def variants(self) -> dict[str, str]:
        """The answer per channel, where PR wrote one."""
        return {channel: content.strip_markup(text) for channel, text in self.served.variants.items()}

    def for_question(self, cand: Candidate, channel: str) -> Suggestion:
        """The suggestion as this question gets it: on its channel, with its score and confidence."""
        answer, shown_channel = self.suggestion.answer, "web"
        if channel in self.variants:
            answer, shown_channel = self.variants[channel] or answer, channel
        return dataclasses.replace(self.suggestion, answer=answer, channel=shown_channel, score=round(cand.fused, 4),
                                   confidence=cand.confidence, probability=cand.probability)


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
    repeat_window: dt.timedelta = inquiries.REPEAT_WINDOW,
) -> SuggestResult:
    """Answer one message: escalate a red flag, else suggest approved answers, else say there is none."""
    started = time.perf_counter()
    request = request.validated()
    today = today or dt.date.today()  # once: a question asked at midnight is answered for one day
    lang = request.lang or detect_language(request.question)
    generation = engine.sync(session)  # first: a database that fails here costs no encode
    # Review-by dates expire by the calendar, not by a KB change, so the day is part of the cache key.
    key = (request.question, lang, request.channel, request.k, request.include_low, today)
    cached = engine.cached(generation, key)
    # The question's vector is encoded on another thread from here on: what needs no vector (the red-flag words,
    # the lexical search) is done meanwhile, on the other core.
    query = engine.begin_query(request.question, lang)
    words = engine.lexical_hits(request.question, lang) if cached is None else None
    screening = screen.screen(session, engine, request.question, lang, generation, query)
    ranked: list[Candidate] = []
    if screening.escalation is not None:
        result = SuggestResult(outcome=Outcome.ESCALATE, lang=lang, escalation=screening.escalation)
        if rank_always:  # evaluation scores the ranking whatever the outcome; agents never see it
            result.ranking = _match(session, engine, generation, request, lang, today, query, words)[0].ranking
    else:
        if cached is not None:
            result = SuggestResult(outcome=cached.outcome, lang=lang, suggestions=cached.suggestions,
                                   ranking=cached.ranking)
        else:
            result, ranked = _match(session, engine, generation, request, lang, today, query, words)
            engine.remember(generation, key, result)
        result = _under_crisis(session, engine, generation, request.question, result)
    result.took_ms = (time.perf_counter() - started) * 1000
    if record:
        result.inquiry_id = inquiries.record(
            session, request=request, result=result, source=source, user_id=user_id, api_key_id=api_key_id,
            rule_id=screening.hit.rule_id if screening.hit else None,
            top_score=ranked[0].fused if ranked else None, repeat_window=repeat_window)
    return result


def _under_crisis(session: Session, engine: Engine, generation: int, question: str,
                  result: SuggestResult) -> SuggestResult:
    """Turn an answer into the crisis's escalation when the question falls under a crisis in force."""
    top = result.suggestions[0] if result.suggestions and result.outcome is Outcome.ANSWER else None
    found = screen.crisis_for(session, engine, generation, question, top.category if top else None,
                              [top.entry_id] if top else [])
    if found is None:
        return result
    return SuggestResult(outcome=Outcome.ESCALATE, lang=result.lang, escalation=found.escalation_in(result.lang),
                         ranking=result.ranking, crisis_id=found.crisis_id)


def _live(
    session: Session, engine: Engine, generation: int, version_ids: list[int], today: dt.date,
) -> dict[int, _Shown]:
    """Return what each of these versions shows, for those still approved and unexpired at the KB generation the
    question read and on its day. When the worker's index holds that generation, its own copy of each version
    answers (sync read it at that generation) and nothing is read; otherwise the versions are read from the
    question's session. Category and approver are looked up once per generation: they change without the version."""
    filed = engine.kept(generation, "filed", lambda: _Filed.every(session))
    served = engine.served(generation, version_ids)
    if served is None:
        rows = suggestable.suggestable_rows(session=session, version_ids=version_ids, today=today)
        return {row.id: _Shown(suggestable.Served.of(row), row.approver, filed.get(row.category_id))
                for row in rows}
    held: dict[int, _Shown] = engine.kept(generation, "shown", dict)
    categories = engine.kept(generation, "categories", lambda: suggestable.entry_categories(session=session))
    names = engine.kept(generation, "approvers", lambda: suggestable.approver_names(session=session))
    found: dict[int, _Shown] = {}
    for version_id, version in served.items():
        if not version.live_on(today):
            continue
        shown = held.get(version_id)
        if shown is None:
            shown = held[version_id] = _Shown(version, names.get(version.approver_id or 0),
                                              filed.get(categories.get(version.entry_id) or 0))
        found[version_id] = shown
    return found


def _match(
    session: Session, engine: Engine, generation: int, request: SuggestRequest, lang: str, today: dt.date,
    query: PendingVector, words: list[LexicalHit] | None,
) -> tuple[SuggestResult, list[Candidate]]:
    retrieval = engine.retrieve(request.question, lang, query=query, words=words)
    # The index is never trusted: the best candidates are re-read and kept only if still approved and unexpired,
    # and only then labelled and decided on.
    head = rank(retrieval.candidates, retrieval.cosine_range, retrieval.thresholds)[: max(RERANK_DEPTH, 2 * request.k)]
    shown = _live(session, engine, generation, [c.version_id for c in head], today)
    live = {version_id: s.served.entry_id for version_id, s in shown.items()}
    alive = [c for c in head if c.version_id in live]
    # --- confidence model hook: where one was fitted on this encoder, a measured probability reranks the head,
    # labels it and makes the answer / no-match decision (suggest/matching/confidence.py); else the fused
    # thresholds do.
    model = engine.confidence
    if model is not None and confidence.applies(model, retrieval.model_id):
        ordered = confidence.apply(alive, model=model, question=request.question, lang=retrieval.lang,
                                   cosine_range=retrieval.cosine_range, include_answer=engine.include_answer,
                                   text_scores=retrieval.text_scores)
        answered = bool(ordered) and confidence.answers(ordered[0], model)
        decision = Decision(outcome="answer" if answered else "no_match", ranked=ordered)
    else:
        decision = label(alive, retrieval.thresholds)
    # --- end of hook
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
    result = SuggestResult(
        outcome=Outcome(decision.outcome), lang=lang,
        suggestions=[shown[c.version_id].for_question(c, request.channel or "web") for c in chosen],
        ranking=list(dict.fromkeys(live[c.version_id] for c in decision.ranked)), encode_ms=retrieval.encode_ms,
    )
    return result, decision.ranked
