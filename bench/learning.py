"""Measure the learning loop through the product: accept customers' wordings as phrasings, then ask the others.

    .venv/bin/python -m bench.learning [--sets banking77,clinc150,he_service_dev] [--per-entry 5] [--measure 10]

For every entry, `--per-entry` of its labelled questions (0: half of them) become accepted phrasings, stored as
`kb.phrasings` stores an approver's one-click acceptance; the entry's other questions are then asked through the
suggest service (`suggest.evaluation.evaluate`, k=5), once before anything is accepted and once after. Questions
the shipped confidence model was fitted on (bench.evidence's sample of each set) are neither accepted nor measured,
so every figure is held out; a set whose questions were all fitted (he_service_dev) is measured in fused order
(`--fused`: without the confidence model). Output: one JSON line per set and language.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from collections import defaultdict
from typing import Any

from sqlalchemy import select

from app import create_app
from bench import common
from bench import evidence as ev
from kb import phrasings, storage
from kb.cli import progress_bar
from kb.models import PHRASING_ACCEPTED, Entry, Phrasing
from suggest import engine as engine_mod
from suggest.evaluation import QueryRow, evaluate, throwaway_app

DEFAULT_SETS = {"banking77": ("en",), "clinc150": ("en",), "he_service_dev": ("he", "en")}


def split(rows: list[QueryRow], per_entry: int, measure: int, seed: int = 11) -> tuple[dict[str, list[str]],
                                                                                     list[QueryRow]]:
    """Return (entry id -> wordings to accept, questions to measure), per entry, seeded."""
    by_entry: dict[str, list[QueryRow]] = defaultdict(list)
    for q in rows:
        by_entry[q.relevant[0]].append(q)
    rng = random.Random(seed)
    accepted: dict[str, list[str]] = {}
    measured: list[QueryRow] = []
    for entry_id, qs in sorted(by_entry.items()):
        qs = rng.sample(qs, len(qs))
        take = per_entry or len(qs) // 2
        if len(qs) <= take:
            continue  # nothing would be left to measure on
        accepted[entry_id] = [q.query for q in qs[:take]]
        measured += qs[take:take + measure] if measure else qs[take:]
    return accepted, measured


def accept_all(accepted: dict[str, list[str]], lang: str) -> int:
    """Store the wordings as accepted phrasings of their entries (in the app in context); return how many."""
    s = storage.session()
    ids = {ext: eid for eid, ext in s.execute(select(Entry.id, Entry.external_id)).all()}
    count = 0
    for ext, texts in accepted.items():
        for text in dict.fromkeys(phrasings.normalise(t) for t in texts):
            s.add(Phrasing(entry_id=ids[ext], text=text, text_hash=phrasings.text_hash(text), lang=lang,
                           source="picked", status=PHRASING_ACCEPTED, times_picked=1))
            count += 1
    s.commit()
    return count


def run(name: str, lang: str, args: argparse.Namespace) -> dict[str, Any]:
    """Measure one set in one language before and after its phrasings are accepted."""
    faq = [r for r in common.read_jsonl(common.DATA / name / "faq.jsonl") if (r.get("lang") or "en") == lang]
    files = ev.SETS[(name, lang)]
    rows = [q for f in files for q in common.read_queries(common.DATA / name / f)
            if (q.lang or "en") == lang and q.relevant and q.expected not in ("no_match", "escalate")]
    fitted = {q.query for q in ev.load_set(name, lang).queries}
    held_out = [q for q in rows if q.query not in fitted]
    fused = args.fused or len(held_out) < len(rows) / 4
    pool = rows if fused else held_out
    accepted, measured = split(pool, args.per_entry, args.measure)
    label = f"{name} {lang}"
    with progress_bar(len(faq), f"{label}: building KB") as advance, \
            throwaway_app(faq, config=common.app_config("auto"), make_app=create_app, progress=advance) as app:
        eng = engine_mod.engine(app)
        if fused:
            eng.confidence = None
        with progress_bar(len(measured), f"{label}: before") as step:
            before = evaluate(app, measured, progress=step)
        with app.app_context():
            n = accept_all(accepted, lang)
        with progress_bar(len(measured), f"{label}: after") as step:
            after = evaluate(app, measured, progress=step)
    keep = ("p_at_1", "recall_at_5", "answerable_no_match_rate")
    return {"set": name, "lang": lang, "order": "fused" if fused else "confidence model", "entries": len(accepted),
            "accepted": n, "measured": len(measured),
            **{f"{k}_before": before[k] for k in keep}, **{f"{k}_after": after[k] for k in keep}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(DEFAULT_SETS))
    parser.add_argument("--per-entry", type=int, default=5, help="wordings accepted per entry (0: half of them)")
    parser.add_argument("--measure", type=int, default=10, help="questions measured per entry (0: all)")
    parser.add_argument("--fused", action="store_true", help="rank in fused order, without the confidence model")
    args = parser.parse_args(argv)
    for name in args.sets.split(","):
        if name not in DEFAULT_SETS:
            print(f"unknown set {name!r}; one of {', '.join(DEFAULT_SETS)}", file=sys.stderr)
            return 2
        for lang in DEFAULT_SETS[name]:
            per_entry = args.per_entry if name != "he_service_dev" else 0
            result = run(name, lang, argparse.Namespace(**{**vars(args), "per_entry": per_entry}))
            print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
