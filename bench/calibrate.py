"""Fit the shipped decision thresholds per language and encoder on the shared sets.

    .venv/bin/python -m bench.calibrate [--max-queries 1500]

Each set loses a seeded 30% of its FAQ entries: queries whose answers were all removed become "no approved
answer" examples, beside CLINC150's out-of-scope queries. The fitted table goes to suggest/thresholds.json.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from collections import defaultdict
from dataclasses import asdict, replace

from app import create_app
from bench import common
from suggest.calibration import Sample, collect, fit_group
from suggest.evaluation import throwaway_app

SETS = {
    "en": {"stackfaq": ["queries.jsonl"], "covidfaq_sunsedoc": ["queries.jsonl"], "banking77": ["queries.jsonl"],
           "clinc150": ["queries.jsonl", "queries_oos.jsonl"], "deepset_covid_qsim": ["queries.jsonl"]},
    "he": {"heq": ["queries.jsonl"], "parashoot": ["queries.jsonl"]},
}
HOLD_OUT = 0.3
TARGET = common.ROOT / "suggest" / "thresholds.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-queries", type=int, default=1500)
    args = parser.parse_args(argv)
    pooled: dict[str, list[Sample]] = defaultdict(list)
    for lang, sets in SETS.items():
        for name, files in sets.items():
            faq = [r for r in common.read_jsonl(common.DATA / name / "faq.jsonl") if (r.get("lang") or "en") == lang]
            rng = random.Random(11)
            dropped = {str(r["id"]) for r in rng.sample(faq, int(len(faq) * HOLD_OUT))}
            kept = [r for r in faq if str(r["id"]) not in dropped]
            queries = []
            for f in files:
                for q in common.read_queries(common.DATA / name / f):
                    if (q.lang or "en") != lang:
                        continue
                    if q.relevant and set(q.relevant) <= dropped:
                        q = replace(q, relevant=[], expected="no_match")
                    queries.append(q)
            queries = common.cap(queries, args.max_queries)
            with throwaway_app(kept, config=common.app_config("auto"), make_app=create_app) as app:
                for (model_id, q_lang), samples in collect(app, queries).items():
                    pooled[f"{model_id}|{q_lang}"].extend(samples)
                    answerable = sum(s.expected == "answer" for s in samples)
                    print(f"{name}: {answerable} answerable, {len(samples) - answerable} without an answer "
                          f"({model_id}, {q_lang})", file=sys.stderr)
    table = {key: asdict(fit_group(samples)) for key, samples in sorted(pooled.items())}
    TARGET.write_text(json.dumps(table, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(json.dumps(table, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
