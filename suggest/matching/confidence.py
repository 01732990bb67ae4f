"""Confidence as a measured probability: evidence about each candidate in the head of the ranking turned into
P(this is a right answer) by a small logistic model, which also reranks the head and decides answer or no match.
Pure: numpy only, no Flask, no database.

The coefficients ship in confidence.json beside this file, fitted by `bench/confidence.py` with cross-validation
(BENCHMARKS.md); "high" is given only where the model says at least `high` and held-out folds measured that
region's precision.
"""
from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from suggest.matching.fusion import Candidate
from suggest.matching.lexical import analyse

HEAD = 10  # candidates scored, reranked and labelled per question
MIN_HIGH = 0.9  # "high" never below this probability, whatever the fit says

BASE = ("fused", "dense", "coverage", "question", "alternate_best", "alternate_mean", "answer", "has_alternate",
        "via_question", "via_alternate", "via_answer", "rank", "top", "fused_lead", "dense_lead", "coverage_lead",
        "gap_next", "top_fused", "top_lead", "query_terms", "dense_only")
# Hebrew and the other languages are read by e5 alone, English by two models: their scores spread differently.
SPLIT = ("fused", "dense", "coverage", "question", "answer", "fused_lead", "dense_lead", "top_fused", "top_lead",
         "alternate_best")
FEATURES = (*BASE, "lang_he", "lang_other", *(f"{name}*single" for name in SPLIT))


@dataclass
class Evidence:
    """What retrieval knows about one candidate."""

    fused: float
    dense: float  # raw score of the language's encoder (best over the entry's texts)
    coverage: float  # lexical coverage, about 0..1
    text_scores: list[float] = field(default_factory=list)  # raw score per indexed text of the entry
    kinds: list[str] = field(default_factory=list)  # "question" | "alternate" | "answer", one per text score


def kinds_for(n_texts: int, include_answer: bool = True) -> list[str]:
    """Name the texts an entry is indexed by, in the engine's order: question, alternates, question + answer."""
    if n_texts <= 1:
        return ["question"] * n_texts
    if include_answer:
        return ["question", *["alternate"] * (n_texts - 2), "answer"]
    return ["question", *["alternate"] * (n_texts - 1)]


def _scale(raw: float, cosine_range: tuple[float, float]) -> float:
    low, high = cosine_range
    return min(max((raw - low) / (high - low), -1.0), 2.0)


def feature_matrix(evidence: Sequence[Evidence], *, cosine_range: tuple[float, float], lang: str,
                   n_terms: int) -> np.ndarray:
    """Return one feature row per candidate, candidates given best fused first."""
    n = len(evidence)
    if not n:
        return np.zeros((0, len(FEATURES)))
    fused = np.array([e.fused for e in evidence])
    dense = np.array([_scale(e.dense, cosine_range) for e in evidence])
    coverage = np.array([min(e.coverage, 1.0) for e in evidence])

    def lead(values: np.ndarray) -> np.ndarray:
        # Each candidate against the best of the others: the margin for the leader, the shortfall for the rest.
        if n == 1:
            return values.copy()
        order = np.argsort(-values)
        best, second = values[order[0]], values[order[1]]
        return values - np.where(np.arange(n) == order[0], second, best)

    fused_lead, dense_lead, coverage_lead = lead(fused), lead(dense), lead(coverage)
    single = 0.0 if lang == "en" else 1.0
    rows = []
    for i, e in enumerate(evidence):
        by_kind: dict[str, list[float]] = {"question": [], "alternate": [], "answer": []}
        for kind, score in zip(e.kinds, e.text_scores, strict=True):
            by_kind[kind].append(_scale(score, cosine_range))
        question = max(by_kind["question"], default=dense[i])
        alternates = by_kind["alternate"]
        answer = max(by_kind["answer"], default=0.0)
        alt_best = max(alternates, default=question)
        alt_mean = float(np.mean(alternates)) if alternates else question
        best_kind = max(("question", "alternate", "answer"), key=lambda k: max(by_kind[k], default=-9.0))
        base = {
            "fused": fused[i], "dense": dense[i], "coverage": coverage[i], "question": question,
            "alternate_best": alt_best, "alternate_mean": alt_mean, "answer": answer,
            "has_alternate": float(bool(alternates)), "via_question": float(best_kind == "question"),
            "via_alternate": float(best_kind == "alternate"), "via_answer": float(best_kind == "answer"),
            "rank": math.log1p(i), "top": float(i == 0), "fused_lead": fused_lead[i], "dense_lead": dense_lead[i],
            "coverage_lead": coverage_lead[i], "gap_next": fused[i] - fused[i + 1] if i + 1 < n else fused[i],
            "top_fused": fused[0], "top_lead": fused_lead[0], "query_terms": math.log1p(n_terms),
            "dense_only": float(e.coverage <= 0),
        }
        row = [base[name] for name in BASE]
        row += [float(lang == "he"), float(lang not in ("he", "en"))]
        row += [base[name] * single for name in SPLIT]
        rows.append(row)
    return np.array(rows, dtype=float)


@dataclass
class Model:
    """A fitted logistic model and the probabilities its decisions use."""

    features: list[str]
    mean: list[float]
    scale: list[float]
    weights: list[float]
    bias: float
    answer: float = 0.5  # answer when the best candidate's probability reaches this, else no match
    high: float = 0.95  # "high" for the best candidate from this probability
    measured: dict[str, float] = field(default_factory=dict)  # held-out figures behind `high` and `answer`
    # Scores of other encoders spread differently: the model applies only to the encoders it was fitted on.
    encoders: list[str] = field(default_factory=list)

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """Return P(right answer) per feature row."""
        if not len(x):
            return np.zeros(0)
        z = (x - np.array(self.mean)) / np.array(self.scale)
        return 1.0 / (1.0 + np.exp(-(z @ np.array(self.weights) + self.bias)))

    def to_json(self) -> str:
        """Serialise the model as the shipped JSON."""
        return json.dumps(asdict(self), indent=1) + "\n"


def fit(x: np.ndarray, y: np.ndarray, *, l2: float = 1.0, iterations: int = 30,
        sample_weight: np.ndarray | None = None) -> Model:
    """Fit the logistic model by Newton's method with an L2 penalty on standardised features."""
    sw = np.ones(len(x)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ w, -30, 30)))
        grad = z.T @ (sw * (p - y)) + penalty * w
        hess = (z * (sw * p * (1 - p))[:, None]).T @ z + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-7:
            break
    return Model(features=list(FEATURES), mean=mean.tolist(), scale=scale.tolist(), weights=w[:-1].tolist(),
                 bias=float(w[-1]))


def labels(probabilities: Sequence[float], model: Model) -> list[str]:
    """Label candidates ranked best first: "high" only for the first, never rising down the list."""
    out: list[str] = []
    for i, p in enumerate(probabilities):
        if i == 0 and p >= max(model.high, MIN_HIGH):
            label = "high"
        elif p >= model.answer:
            label = "medium"
        else:
            label = "low"
        if out and LEVELS[label] > LEVELS[out[-1]]:
            label = out[-1]
        out.append(label)
    return out


LEVELS = {"low": 0, "medium": 1, "high": 2}


def rank(evidence: Sequence[Evidence], model: Model, *, cosine_range: tuple[float, float], lang: str,
         n_terms: int) -> tuple[list[int], list[float]]:
    """Return the head's order by probability (indexes into `evidence`) and each one's probability."""
    probs = model.probabilities(feature_matrix(evidence, cosine_range=cosine_range, lang=lang, n_terms=n_terms))
    order = sorted(range(len(evidence)), key=lambda i: (-probs[i], i))
    return order, [float(probs[i]) for i in order]


SHIPPED = Path(__file__).with_name("confidence.json")


def load(path: Path = SHIPPED) -> Model | None:
    """Return the model saved at path, or None when there is none (or it was fitted on other features)."""
    if not path.is_file():
        return None
    model = Model(**json.loads(path.read_text(encoding="utf-8")))
    return model if tuple(model.features) == FEATURES else None


def applies(model: Model | None, model_id: str) -> bool:
    """Say whether the model was fitted on this encoder's scores."""
    return model is not None and model_id in model.encoders


def apply(ranked: list[Candidate], *, model: Model, question: str, lang: str, cosine_range: tuple[float, float],
          text_scores: Callable[[int], list[float]], include_answer: bool = True) -> list[Candidate]:
    """Give the head of a fused ranking its probabilities, order it by them and label it; return the new ranking.

    Candidates below the head keep their order, without a probability, and are labelled "low".
    """
    head, tail = ranked[:HEAD], ranked[HEAD:]
    evidence = []
    for c in head:
        scores = text_scores(c.version_id)
        evidence.append(Evidence(fused=c.fused, dense=c.dense, coverage=c.coverage, text_scores=scores,
                                 kinds=kinds_for(len(scores), include_answer)))
    order, probs = rank(evidence, model, cosine_range=cosine_range, lang=lang, n_terms=len(analyse(question)))
    out = [head[i] for i in order]
    for c, p, label in zip(out, probs, labels(probs, model), strict=True):
        c.probability = round(p, 4)
        c.confidence = label
    for c in tail:
        c.probability = None
        c.confidence = "low"
    return out + tail


def answers(top: Candidate, model: Model) -> bool:
    """Say whether the best candidate is likely enough to be right to answer with it."""
    return top.probability is not None and top.probability >= model.answer
