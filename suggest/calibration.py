"""Fitting the fusion weight and decision thresholds per language and encoder on labelled queries."""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from flask import Flask
from sqlalchemy import select

from kb import storage
from kb.models import Entry, EntryVersion
from suggest import engine as engine_mod
from suggest.evaluation import QueryRow
from suggest.matching.fusion import Thresholds, dense_scale

WEIGHTS = [round(float(w), 2) for w in np.linspace(0.0, 1.0, 21)]
MARGIN = 0.05
HIGH_PRECISION = 0.9
MAX_REFUSED = 0.10  # share of answerable questions the decision may turn away


@dataclass
class Sample:
    relevant: set[str]
    expected: str
    candidates: list[tuple[str | None, float, float]]  # (external id if any, dense scaled, coverage)


def collect(app: Flask, queries: list[QueryRow], progress: Callable[[int], None] | None = None
            ) -> dict[tuple[str, str], list[Sample]]:
    """Run retrieval for every query and keep the evidence, grouped by (encoder model id, language)."""
    eng = engine_mod.engine(app)
    groups: dict[tuple[str, str], list[Sample]] = defaultdict(list)
    with app.app_context():
        s = storage.session()
        eng.sync(s)
        ext = dict(s.execute(select(EntryVersion.id, Entry.external_id).join(Entry,
                                                                             Entry.id == EntryVersion.entry_id)).all())
        for done, q in enumerate(queries, start=1):
            if q.expected == "escalate":
                continue
            retrieval = eng.retrieve(q.query, q.lang or "en")
            cands = [(ext[c.version_id], dense_scale(c.dense, retrieval.cosine_range), c.coverage)
                     for c in retrieval.candidates]
            groups[(retrieval.model_id, retrieval.lang)].append(Sample(set(q.relevant), q.expected, cands))
            if progress:
                progress(done)
    return groups


def _top(sample: Sample, weight: float) -> tuple[str | None, float]:
    best, best_score = None, -1.0
    for ext_id, dense, coverage in sample.candidates:
        score = weight * dense + (1 - weight) * min(coverage, 1.0)
        if score > best_score:
            best, best_score = ext_id, score
    return best, max(best_score, 0.0)


def fit_group(samples: list[Sample]) -> Thresholds:
    """Choose the weight with the best P@1, then the answer and high thresholds for it."""
    answerable = [s for s in samples if s.expected == "answer"]
    if not answerable:
        return Thresholds()
    best_weight = max(WEIGHTS, key=lambda w: (sum(_top(s, w)[0] in s.relevant for s in answerable), -abs(w - 0.5)))
    pos = np.array([_top(s, best_weight)[1] for s in answerable])
    correct = np.array([_top(s, best_weight)[0] in s.relevant for s in answerable])
    # Refuse as many unanswerable questions as possible while refusing at most MAX_REFUSED of the answerable
    # ones: agents need an answer for the questions the library does cover.
    answer = float(np.quantile(pos, MAX_REFUSED)) if len(pos) else 0.5
    high = answer
    for t in np.unique(pos[pos >= answer]):
        answered = pos >= t
        if answered.any() and correct[answered].mean() >= HIGH_PRECISION:
            high = float(t)
            break
    else:
        high = max(answer, float(pos.max()) if len(pos) else answer)
    return Thresholds(weight=best_weight, answer=round(answer, 4), high=round(max(high, answer), 4),
                      margin=MARGIN)


def fit(app: Flask, queries: list[QueryRow], progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Return thresholds keyed "<model id>|<lang>", fitted on the queries."""
    groups = collect(app, queries, progress)
    return {f"{model_id}|{lang}": asdict(fit_group(samples)) for (model_id, lang), samples in groups.items()}


def read_file(path: Path) -> dict[str, Any]:
    """Return the thresholds saved at path, or an empty table."""
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}
