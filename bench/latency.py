"""Speed of one suggestion at 1k and 10k entries, beside the raw encode of the same question (the floor) and
Haystack's retriever in the same run; time for an approval to reach suggestions; cold start with a warm cache.

    .venv/bin/python -m bench.latency [--sizes 1000,10000] [--queries 300] [--profile 40]

Entries are CLINC150 training utterances (English: the default MiniLM+e5 ensemble); queries are CLINC150 test
queries. Prints one JSON line per size and writes bench/results/latency.json.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from app import create_app
from bench import common
from kb import service, storage
from kb.service import Draft
from suggest import engine as engine_mod
from suggest import settings as suggest_settings
from suggest.engine import Engine
from suggest.evaluation import throwaway_app
from suggest.service import SuggestRequest, suggest

WARM_UP = 20  # untimed questions first


def entries(size: int) -> list[dict[str, Any]]:
    """Return `size` FAQ rows made of CLINC150 training utterances (question) and their intent (answer)."""
    rows = common.read_jsonl(common.DATA / "clinc150" / "faq_all_train_utterances.jsonl.gz")
    rows = random.Random(5).sample(rows, min(size, len(rows)))
    return [{"id": f"u{i}", "question": r["question"], "answer": r.get("answer") or r["question"], "lang": "en"}
            for i, r in enumerate(rows)]


def encode_then_suggest(session: Any, eng: Engine, questions: list[str],
                        profiler: cProfile.Profile | None = None) -> tuple[list[float], list[float]]:
    """Time each English question's raw encode, then its whole suggestion (profiled, given a profiler); return both
    lists of milliseconds."""
    encoder, encode, whole = eng.encoder_for("en"), [], []
    for q in questions:
        started = time.perf_counter()
        encoder.encode_queries([q])
        encode.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        suggest(session=session, engine=eng, request=SuggestRequest(q, lang="en"), source="bench")
        whole.append((time.perf_counter() - started) * 1000)
        if profiler:
            profiler.disable()
    return encode, whole


def measure(size: int, n_queries: int, profile: int = 0) -> dict[str, Any]:
    """Measure one KB size (and print where the suggestions' time went, the `profile` heaviest calls)."""
    faq = entries(size)
    queries = [q.query for q in common.read_queries(common.DATA / "clinc150" / "queries.jsonl")]
    queries = random.Random(3).sample(queries, n_queries + WARM_UP)
    warm, queries = queries[:WARM_UP], queries[WARM_UP:]
    # The product's own settings less the answer cache: every timed question is new to the worker.
    config = {**common.app_config("auto"), "SUGGEST_CACHE_SIZE": 0}
    with throwaway_app(faq, config=config, make_app=create_app) as app:
        eng = engine_mod.engine(app)
        with storage.database(app).session() as s:
            eng.sync(s)
            eng.warm_up(["en"])
            for q in warm:  # warm allocators before timing, with questions that are not timed
                suggest(session=s, engine=eng, request=SuggestRequest(q, lang="en"))
            profiler = cProfile.Profile() if profile else None
            encode, whole = encode_then_suggest(s, eng, queries, profiler)
            if profiler:
                pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(profile)
            approval_ms = _approval_visible_ms(s, eng)
        cold = _cold_start(app, config)
    haystack = _haystack(faq, queries)
    p50, enc50 = statistics.median(whole), statistics.median(encode)
    return {
        "entries": size, "queries": n_queries,
        "suggest_ms_p50": round(p50, 3), "suggest_ms_p99": common.percentile(whole, 99),
        "encode_ms_p50": round(enc50, 3), "suggest_over_encode": round(p50 / enc50, 3),
        "p99_over_p50": round(common.percentile(whole, 99) / p50, 3),
        "approval_visible_ms": approval_ms, **cold, **haystack,
    }


def _approval_visible_ms(s, eng: Engine) -> float:
    """Approve a new entry and time until a suggestion returns it (the commit to the answer)."""
    from kb import accounts

    approver = accounts.get_by_username(session=s, username="evaluator")
    editor = accounts.create_user(session=s, username="bench-editor", password="bench-editor-pw", role="editor")
    question = "Where can I collect my lost umbrella from the Galim shop in Eilat?"
    draft = service.create_draft(session=s, actor=editor, draft=Draft(question=question, answer="At the front desk.",
                                                                      lang="en"))
    service.submit(session=s, actor=editor, version_id=draft.id)
    started = time.perf_counter()
    service.approve(session=s, actor=approver, version_id=draft.id)
    while time.perf_counter() - started < 10:  # ask again until the worker serves it, as an agent would
        result = suggest(session=s, engine=eng, request=SuggestRequest(question, lang="en"), record=False)
        if result.suggestions and result.suggestions[0].entry_id == draft.entry_id:
            return round((time.perf_counter() - started) * 1000, 3)
        time.sleep(0.01)
    raise AssertionError("approval not visible after 10 s")


def _cold_start(app, config: dict[str, Any]) -> dict[str, float]:
    """Time a new worker's engine: load the model, read cached embeddings, build the indexes."""
    started = time.perf_counter()
    fresh = suggest_settings.from_config({**app.config, **config}, app.instance_path)
    fresh.warm_up(["en"])
    loaded = time.perf_counter()
    with storage.database(app).session() as s:
        fresh.sync(s)
    done = time.perf_counter()
    return {"cold_start_s": round(done - started, 3), "cold_model_s": round(loaded - started, 3),
            "cold_index_s": round(done - loaded, 3)}


def _haystack(faq: list[dict], queries: list[str]) -> dict[str, float]:
    """Time Haystack in this process, where it is installed; `bench.peers` runs it fairly, in its own process."""
    import importlib.util

    if importlib.util.find_spec("haystack") is None:
        return {}
    from bench.haystack_baseline import evaluate_haystack
    from suggest.evaluation import QueryRow

    metrics = evaluate_haystack(faq, [QueryRow(q, [], "en", "no_match") for q in queries])
    return {"haystack_ms_p50": metrics["latency_ms_p50"], "haystack_ms_p99": metrics["latency_ms_p99"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="print the N heaviest calls of the timed suggestions (cProfile, to stderr; slows them)")
    args = parser.parse_args(argv)
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        result = measure(size, args.queries, args.profile)
        results.append(result)
        print(json.dumps(result), flush=True)
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    Path(common.RESULTS / "latency.json").write_text(json.dumps({"date": time.strftime("%Y-%m-%d"),
                                                                 "results": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
