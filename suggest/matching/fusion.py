"""Fusion of dense and lexical evidence, and the calibrated answer / no-match decision. Pure."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Thresholds:
    """How one language (on one encoder) turns evidence into a score and a decision."""

    weight: float = 0.6  # share of the dense score in the fused score; the rest is lexical coverage
    answer: float = 0.45  # fused score at or above which the top suggestion is an answer
    high: float = 0.65  # fused score for "high" confidence ...
    margin: float = 0.05  # ... when it also leads the next entry by this much


# Keys: "<encoder model id>|<lang>", "<lang>" or "*". The shipped table is fitted by `bench/calibrate.py` on
# public FAQ sets (BENCHMARKS.md); a deployment refits with `flask suggest calibrate` on its own questions.
_SHIPPED = Path(__file__).with_name("thresholds.json")
DEFAULT_THRESHOLDS: dict[str, Thresholds] = {"*": Thresholds()}
if _SHIPPED.is_file():
    DEFAULT_THRESHOLDS.update(
        {key: Thresholds(**values) for key, values in json.loads(_SHIPPED.read_text(encoding="utf-8")).items()}
    )


@dataclass
class Candidate:
    version_id: int
    dense: float = 0.0  # raw cosine
    coverage: float = 0.0  # lexical coverage, about 0..1
    fused: float = 0.0
    confidence: str = "low"
    probability: float | None = None  # P(right answer) from the confidence model, where one applies


@dataclass
class Decision:
    outcome: str  # "answer" | "no_match"
    ranked: list[Candidate] = field(default_factory=list)


def dense_scale(cosine: float, cosine_range: tuple[float, float]) -> float:
    """Map an encoder's cosine onto 0..1 using the range where its scores actually spread."""
    low, high = cosine_range
    return min(max((cosine - low) / (high - low), 0.0), 1.0)


def fuse(candidate: Candidate, cosine_range: tuple[float, float], t: Thresholds) -> float:
    """Return the fused score of one candidate."""
    return t.weight * dense_scale(candidate.dense, cosine_range) + (1 - t.weight) * min(candidate.coverage, 1.0)


def rank(candidates: list[Candidate], cosine_range: tuple[float, float], t: Thresholds) -> list[Candidate]:
    """Fuse each candidate's evidence and return them best first."""
    for c in candidates:
        c.fused = fuse(c, cosine_range, t)
    return sorted(candidates, key=lambda c: (-c.fused, c.version_id))


def label(ranked: list[Candidate], t: Thresholds) -> Decision:
    """Give each ranked candidate its confidence and decide whether the best one answers the question."""
    for i, c in enumerate(ranked):
        nxt = ranked[i + 1].fused if i + 1 < len(ranked) else 0.0
        # At most one "high" (the first, when it also leads clearly), and labels never rise down the list.
        if i == 0 and c.fused >= t.high and c.fused - nxt >= t.margin:
            c.confidence = "high"
        elif c.fused >= t.answer:
            c.confidence = "medium"
        else:
            c.confidence = "low"
    outcome = "answer" if ranked and ranked[0].fused >= t.answer else "no_match"
    return Decision(outcome=outcome, ranked=ranked)


def decide(candidates: list[Candidate], cosine_range: tuple[float, float], t: Thresholds) -> Decision:
    """Rank candidates by fused score and decide whether the best one answers the question."""
    return label(rank(candidates, cosine_range, t), t)


def thresholds_for(table: dict[str, Thresholds], model_id: str, lang: str) -> Thresholds:
    """Pick the most specific thresholds: encoder and language, then language, then the default."""
    return table.get(f"{model_id}|{lang}") or table.get(lang) or table.get("*") or Thresholds()


def load_table(raw: str) -> dict[str, Thresholds]:
    """Merge a JSON thresholds setting over the defaults; raise ValueError on a bad one."""
    table = dict(DEFAULT_THRESHOLDS)
    if not raw.strip():
        return table
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("thresholds must be a JSON object")
    for key, values in data.items():
        table[key] = Thresholds(**values)
    return table


def dump_table(table: dict[str, Thresholds]) -> str:
    """Serialise thresholds as the JSON the THRESHOLDS setting takes."""
    return json.dumps({k: asdict(v) for k, v in sorted(table.items())}, sort_keys=True)
