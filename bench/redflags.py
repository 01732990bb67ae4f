"""Red-flag detection on a labelled file of red-flag and routine messages (ours, Hebrew and English), run
against the demo knowledge base with the default rules, through the same code path as the API.

    .venv/bin/python -m bench.redflags [--encoder auto]

Prints the evaluation contract's escalate_* metrics per language and overall, and which messages were wrong.
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
    args = parser.parse_args(argv)
    queries = parse_queries(LABELLED)
    faq = demo_rows(dt.date.today() + dt.timedelta(days=365))
    out = {}
    with throwaway_app(faq, config=common.app_config(args.encoder), make_app=create_app) as app:
        for lang in ("en", "he", None):
            rows = [q for q in queries if lang is None or q.lang == lang]
            metrics = evaluate(app, rows)
            out[lang or "all"] = {k: metrics[k] for k in ("n_queries", "escalate_recall",
                                                           "escalate_false_positive_rate")}
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
    print(json.dumps({"encoder": args.encoder, "results": out, "wrong": wrong}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
