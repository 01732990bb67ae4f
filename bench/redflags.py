"""Red-flag detection on a labelled file of red-flag and routine messages (ours, Hebrew and English), run
against the demo knowledge base with the default rules, through the same code path as the API.

    .venv/bin/python -m bench.redflags [--encoder auto] [--flag-model off] [--file PATH ...]

Prints the evaluation contract's escalate_* metrics per language and overall, and which messages were wrong.
`--file` scores other labelled files instead (e.g. a folder's redflags.jsonl, routine_angry.jsonl, queries.jsonl);
`--flag-model off` measures the rules alone, without the red-flag classifier.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from app import create_app
from bench import common
from kb.demo import demo_rows
from suggest.evaluation import evaluate, parse_queries, throwaway_app

LABELLED = Path(__file__).resolve().parent / "data" / "redflags.jsonl"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", default="auto")
    parser.add_argument("--flag-model", default="", help='red-flag classifier weights ("off": rules only)')
    parser.add_argument("--file", type=Path, action="append", help="labelled file(s) to score instead of ours")
    args = parser.parse_args(argv)
    files = args.file or [LABELLED]
    queries = [q for path in files for q in parse_queries(path)]
    faq = demo_rows(dt.date.today() + dt.timedelta(days=365))
    out = {}
    config = {**common.app_config(args.encoder), "FLAG_MODEL": args.flag_model}
    with throwaway_app(faq, config=config, make_app=create_app) as app:
        for path in files:
            for lang in ("en", "he", None):
                rows = [q for q in parse_queries(path) if lang is None or q.lang == lang]
                if not rows:
                    continue
                metrics = evaluate(app, rows)
                key = f"{path.name}:{lang or 'all'}" if args.file else lang or "all"
                out[key] = {k: metrics[k] for k in ("n_queries", "escalate_recall", "escalate_false_positive_rate")}
        from kb import storage
        from suggest import engine as engine_mod
        from suggest.service import SuggestRequest, suggest

        wrong = []
        with storage.database(app).session() as s:
            for q in queries:
                got = suggest(session=s, engine=engine_mod.engine(app), request=SuggestRequest(q.query, lang=q.lang),
                              record=False).outcome
                if (got == "escalate") != (q.expected == "escalate"):
                    wrong.append({"query": q.query, "expected": q.expected, "got": got})
    print(json.dumps({"encoder": args.encoder, "flag_model": args.flag_model or "shipped", "results": out,
                      "wrong": wrong}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
