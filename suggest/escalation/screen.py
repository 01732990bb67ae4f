"""Screening a message before any answer: red-flag rules by word, pattern and example, and crises in force."""
from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
from sqlalchemy.orm import Session

from kb import owners, redflags
from kb.models import RedFlagRule
from suggest.engine import Engine
from suggest.escalation import classifier, crisis, detect, routing
from suggest.matching.batching import PendingVector
from suggest.matching.fusion import dense_scale
from suggest.results import Escalation


@dataclass(frozen=True)
class Examples:
    """The rules' example messages for one encoder model, stacked so that one product scores them all."""

    vectors: np.ndarray  # every example's vector, rule after rule
    starts: np.ndarray  # the first row of each rule's examples
    rule_ids: list[int]

    @classmethod
    def stack(cls, per_rule: list[tuple[int, np.ndarray]]) -> Examples:
        sizes = [len(vectors) for _, vectors in per_rule]
        return cls(np.concatenate([vectors for _, vectors in per_rule]).astype(np.float32),
                   np.cumsum([0, *sizes[:-1]]), [rule_id for rule_id, _ in per_rule])


@dataclass(frozen=True)
class RuleSet:
    rules: list[detect.CompiledRule]
    by_id: dict[int, RedFlagRule]
    by_kind_lang: dict[tuple[str, str], RedFlagRule]
    examples: dict[str, Examples]  # by encoder model id
    spokesperson_id: int | None


@dataclass(frozen=True)
class Screening:
    hit: detect.FlagHit | None
    escalation: Escalation | None


def rule_set(session: Session, engine: Engine, generation: int) -> RuleSet:
    """Return the active rules compiled, with their escalations and example vectors, once per KB generation."""

    def build() -> RuleSet:
        rules = redflags.active_rules(session=session)
        per_model: dict[str, list[tuple[int, np.ndarray]]] = {}
        for rule in rules:
            if rule.examples:
                model_id, vectors = engine.encode_fixed(rule.lang, list(rule.examples))
                per_model.setdefault(model_id, []).append((rule.id, vectors))
        examples = {model_id: Examples.stack(per_rule) for model_id, per_rule in per_model.items()}
        by_kind_lang: dict[tuple[str, str], RedFlagRule] = {}
        for rule in sorted(rules, key=lambda r: -r.severity):
            by_kind_lang.setdefault((rule.kind, rule.lang), rule)
        spokesperson = owners.find_department(session=session, slug="spokesperson")
        return RuleSet([detect.compile_rule(r) for r in rules], {r.id: r for r in rules}, by_kind_lang, examples,
                       spokesperson.id if spokesperson else None)

    return engine.kept(generation, "red_flags", build)


def _closest_example(engine: Engine, rules: RuleSet, vector: np.ndarray, lang: str) -> int | None:
    """Return the rule whose example messages the message is closest to, if close enough (on a tie, the rule
    listed last)."""
    enc = engine.encoder_for(lang)
    found = rules.examples.get(enc.model_id)
    if found is None:
        return None
    closest = np.maximum.reduceat(found.vectors @ vector, found.starts)  # each rule's closest example
    best = len(closest) - 1 - int(np.argmax(closest[::-1]))
    score = dense_scale(float(closest[best]), enc.cosine_range)
    return found.rule_ids[best] if score >= engine.example_match else None


def _by_meaning(engine: Engine, question: str, lang: str, query: PendingVector) -> list[tuple[str, float]]:
    """Return the red-flag kinds the classifier finds in a message."""
    model_id = engine.encoder_for(lang).model_id
    if model_id not in engine.flag_model.heads:
        return []
    letters = engine.flag_model.letters(question)  # needs no vector: read while the message is encoded
    return cast(list[tuple[str, float]],
                engine.flag_model.classify(query.get()[0], lang, model_id=model_id, letters=letters))


def screen(session: Session, engine: Engine, question: str, lang: str, generation: int,
           query: PendingVector) -> Screening:
    """Say whether a message is a red flag, and which escalation it gets, by the rules of the KB generation
    `session` read. The message's vector is on its way (`Engine.begin_query`): the words are read first. A message
    is screened once per KB generation (and red-flag model): the rules, their examples and the classifier decide
    alike every time."""
    # The model itself, not its id: an id can be reused once a swapped-out model is freed.
    key = (question, lang, engine.flag_model, engine.example_match)
    screened = engine.cached(generation, key, kind="screenings")
    if screened is None:
        screened = _screen(session, engine, question, lang, generation, query)
        engine.remember(generation, key, screened, kind="screenings")
    return screened


def _screen(session: Session, engine: Engine, question: str, lang: str, generation: int,
            query: PendingVector) -> Screening:
    rules = rule_set(session, engine, generation)
    hits = detect.detect_all(question, rules.rules)
    # Red flags recognised by meaning (classifier.py): every kind found joins the rules' hits, on its own rule.
    found = _by_meaning(engine, question, lang, query)
    if not hits and rules.examples:
        # Example messages catch red flags worded in ways no keyword foresaw.
        rule_id = _closest_example(engine, rules, query.get()[0], lang)
        if rule_id is not None:
            hits = [detect.FlagHit(rule_id, rules.by_id[rule_id].kind, "example")]
    for rule_id, kind, probability in classifier.escalate_to(found, rules.rules, lang):
        if kind not in {h.kind for h in hits}:
            hits.append(detect.FlagHit(rule_id, kind, f"meaning {probability:.2f}"))
    if not hits:
        return Screening(None, None)
    hits.sort(key=lambda h: -rules.by_id[h.rule_id].severity)  # stable: on a tie, words and examples lead
    tripped = [rules.by_id[h.rule_id] for h in hits]
    escalation = routing.combined_escalation(tripped, lang, rules.by_kind_lang, rules.spokesperson_id)
    return Screening(hits[0], escalation)


def crisis_for(session: Session, engine: Engine, generation: int, question: str, category: str | None,
               entry_ids: list[int]) -> crisis.ActiveCrisis | None:
    """Return the crisis in force that this question falls under, if any."""
    active = engine.kept(generation, "crises", lambda: crisis.compile_active(session=session))
    return next((c for c in active if c.matches(question, category, entry_ids)), None)
