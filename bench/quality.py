"""Matching quality on the shared FAQ sets: our pipeline beside BM25 alone, each dense encoder alone, and
Haystack's in-memory embedding retriever on the same model, all in one run.

    .venv/bin/python -m bench.quality [--sets stackfaq,heq] [--modes pipeline,bm25,minilm,e5,haystack]

Reads ../shared/data/eval (or --data), writes bench/results/quality-<set>.json, and prints one line per result.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from app import create_app
from bench import common
from suggest import engine as engine_mod
from suggest.evaluation import QueryRow, evaluate, throwaway_app
from suggest.matching.fusion import Thresholds

SETS = {
    "stackfaq": ["queries.jsonl"],
    "covidfaq_sunsedoc": ["queries.jsonl"],
    "deepset_covid_qsim": ["queries.jsonl"],
    "publichealthqa_covidqa_multilingual": ["queries.jsonl"],
    "banking77": ["queries.jsonl"],
    "clinc150": ["queries.jsonl", "queries_oos.jsonl"],
    "heq": ["queries.jsonl"],
    "parashoot": ["queries.jsonl"],
}
MODES = ("pipeline", "bm25", "minilm", "e5", "haystack")
RANKING_ONLY = {"p_at_1", "mrr", "recall_at_5", "latency_ms_p50", "latency_ms_p99", "encode_ms_p50", "n_queries"}


def _only(weight: float) -> dict[str, Thresholds]:
    return {"*": Thresholds(weight=weight, answer=0.0, high=1.0, margin=0.0)}


def run_mode(mode: str, faq: list[dict], queries: list[QueryRow]) -> dict[str, Any]:
    """Evaluate one mode on one set (one language) and return the contract metrics."""
    if mode == "haystack":
        from bench.haystack_baseline import evaluate_haystack

        return evaluate_haystack(faq, queries)
    encoder = {"pipeline": "auto", "bm25": "fake", "minilm": "minilm", "e5": "e5"}[mode]
    with throwaway_app(faq, config=common.app_config(encoder), make_app=create_app) as app:
        eng = engine_mod.engine(app)
        if mode == "bm25":
            eng.thresholds = _only(0.0)
        elif mode in ("minilm", "e5"):
            eng.thresholds = _only(1.0)
        metrics = evaluate(app, queries)
    if mode != "pipeline":
        metrics = {k: v for k, v in metrics.items() if k in RANKING_ONLY}
    return metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=common.DATA)
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--max-queries", type=int, default=0, help="cap per set and language (0: all)")
    args = parser.parse_args(argv)
    out_dir = common.RESULTS
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in args.sets.split(","):
        faq = common.read_jsonl(args.data / name / "faq.jsonl")
        queries = [q for f in SETS[name] for q in common.read_queries(args.data / name / f)]
        by_lang: dict[str, list[QueryRow]] = defaultdict(list)
        for q in queries:
            by_lang[q.lang or "en"].append(q)
        target = out_dir / f"quality-{name}.json"
        # Running some modes again keeps the others' results from the earlier run.
        result: dict[str, Any] = json.loads(target.read_text()) if target.exists() else {"set": name, "langs": {}}
        result.update(machine=platform.node(), python=sys.version.split()[0], date=time.strftime("%Y-%m-%d"))
        for lang, rows in sorted(by_lang.items()):
            rows = common.cap(rows, args.max_queries)
            lang_faq = [r for r in faq if (r.get("lang") or "en") == lang]
            result["langs"].setdefault(lang, {})
            for mode in args.modes.split(","):
                started = time.perf_counter()
                metrics = run_mode(mode, lang_faq, rows)
                metrics["seconds"] = round(time.perf_counter() - started, 1)
                result["langs"][lang][mode] = metrics
                print(json.dumps({"set": name, "lang": lang, "mode": mode, **metrics}), flush=True)
        target.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
