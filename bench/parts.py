"""Where a request's time goes, in one process and one thread, without HTTP.

    .venv/bin/python -m bench.parts [--calls 2000] [--size 10000] [--queries 200] [--skip-size]

Two parts. The pieces of a repeated API call, over the database `bench.throughput` prepares (each piece timed
alone over `--calls` calls, then the whole call through Flask's test client). Then the pieces of a distinct
question at `--size` entries (CLINC150 utterances, as `bench.latency`): each question's raw encode, then its
suggestion, with the median time of every step inside it. Prints one JSON line per part.
"""
from __future__ import annotations

import argparse
import collections
import functools
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import common


def _each(calls: int, fn: Callable[[], object]) -> float:
    for _ in range(min(50, calls)):
        fn()
    started = time.perf_counter()
    for _ in range(calls):
        fn()
    return round((time.perf_counter() - started) * 1000 / calls, 3)


def repeated_call(calls: int) -> dict[str, Any]:
    """Time the pieces of a repeated question's API call."""
    from bench.throughput import prepared_copy, question_sets

    folder = Path(tempfile.mkdtemp(prefix="vetted-parts-"))
    url, raw_key = prepared_copy(folder, "auto")
    os.environ.update({"VETTED_DATABASE_URL": url, "VETTED_SECRET_KEY": "parts", "VETTED_INSTANCE_PATH": str(folder),
                       "VETTED_MODEL_CACHE": str(common.MODELS), "VETTED_API_RATE_LIMIT": "100000000",
                       "VETTED_NOTIFY_WORKER": "false", "VETTED_WARM_UP": "true"})
    from app import create_app
    from kb import accounts, rate_limits, storage
    from suggest import engine as engine_mod
    from suggest.service import SuggestRequest, suggest

    try:
        app = create_app()
        sets = question_sets()
        questions = sets["en"][:16] + sets["he"][:16]
        client, headers = app.test_client(), {"Authorization": f"Bearer {raw_key}"}
        for q in questions * 3:  # every answer cached, every inquiry made
            client.post("/api/v1/suggest", json={"question": q}, headers=headers)
        out: dict[str, Any] = {"part": "repeated API call", "calls": calls}
        with app.app_context():
            s = storage.session()
            key = accounts.verify_api_key(session=s, raw=raw_key)
            assert key is not None
            eng = engine_mod.engine()
            turn = iter(range(10**9))

            def asked(record: bool) -> object:
                return suggest(session=s, engine=eng, request=SuggestRequest(questions[next(turn) % len(questions)]),
                               user_id=key.user_id, api_key_id=key.id, record=record)

            out["key_check_ms"] = _each(calls, lambda: accounts.verify_api_key(session=s, raw=raw_key))
            out["rate_limit_count_ms"] = _each(calls, lambda: rate_limits.hit(session=s, key_id=key.id,
                                                                              per_minute=10**8))
            out["generation_read_ms"] = _each(calls, lambda: storage.generation(s))
            out["cached_suggestion_ms"] = _each(calls, lambda: asked(False))
            out["cached_suggestion_and_inquiry_ms"] = _each(calls, lambda: asked(True))
        out["whole_call_test_client_ms"] = _each(calls, lambda: client.post(
            "/api/v1/suggest", json={"question": questions[0]}, headers=headers))
        out["health_test_client_ms"] = _each(calls, lambda: client.get("/healthz"))
        storage.database(app).engine.dispose()
        return out
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def distinct_question(size: int, n_queries: int) -> dict[str, Any]:
    """Time a distinct question's suggestion at `size` entries, step by step, beside its raw encode."""
    from app import create_app
    from bench.latency import encode_then_suggest, entries
    from kb import storage
    from suggest import engine as engine_mod
    from suggest import inquiries, service
    from suggest.escalation import screen
    from suggest.evaluation import throwaway_app
    from suggest.matching import confidence, index
    from suggest.service import SuggestRequest, suggest

    steps: dict[str, list[float]] = collections.defaultdict(list)

    def timed(owner: Any, name: str, label: str) -> None:
        inner = getattr(owner, name)

        @functools.wraps(inner)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                steps[label].append((time.perf_counter() - started) * 1000)

        setattr(owner, name, wrapper)

    for owner, name, label in (
        (engine_mod.Engine, "sync", "generation read (sync)"), (engine_mod.Engine, "lexical_hits", "lexical search"),
        (screen, "_by_meaning", "red flags by meaning, with the wait for the vector"),
        (service, "_match", "matching after the vector"), (index.DenseIndex, "search", "dense search"),
        (index.DenseIndex, "text_scores_of", "candidates' text scores"), (confidence, "apply", "confidence model"),
        (inquiries, "record", "inquiry written"),
    ):
        timed(owner, name, label)
    questions = [q.query for q in common.read_queries(common.DATA / "clinc150" / "queries.jsonl")]
    questions = random.Random(3).sample(questions, n_queries + 20)
    config = {**common.app_config("auto"), "SUGGEST_CACHE_SIZE": 0}
    with throwaway_app(entries(size), config=config, make_app=create_app) as app:
        eng = engine_mod.engine(app)
        with storage.database(app).session() as s:
            eng.sync(s)
            eng.warm_up(["en"])
            for q in questions[:20]:
                suggest(session=s, engine=eng, request=SuggestRequest(q, lang="en"))
            steps.clear()
            encode, whole = encode_then_suggest(s, eng, questions[20:])
    enc50, p50 = statistics.median(encode), statistics.median(whole)
    return {"part": "distinct question", "entries": size, "queries": n_queries, "encode_ms_p50": round(enc50, 3),
            "suggest_ms_p50": round(p50, 3), "suggest_over_encode": round(p50 / enc50, 3),
            "steps_ms_p50": {k: round(statistics.median(v), 3) for k, v in steps.items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--size", type=int, default=10000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--skip-size", action="store_true", help="only the repeated call")
    args = parser.parse_args(argv)
    print(json.dumps(repeated_call(args.calls)), flush=True)
    if not args.skip_size:
        print(json.dumps(distinct_question(args.size, args.queries)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
