"""The whole suggestion at a large KB size in minutes, not the hour a real import and encode of 100k entries take.

    .venv/bin/python -m bench.suggest_at_size [--size 100000] [--queries 100] [--profile 45]

The entries are the peer bench's English entries (`bench.peers.english`), written as approved rows in bulk; their
texts' vectors are put in the embedding cache as random unit vectors, so the worker's first sync reads them instead
of encoding them. Questions are real (CLINC150 test questions) and go through the real encoders and the whole
`suggest` use case: red flags, lexical and dense search (IVF at this size), confidence, the inquiry written. The
ranking is meaningless (the passages are random); the cost is what is measured: suggestion p50 over the raw encode
of the same questions, one at a time. With `--profile N` a second set of questions is profiled and the N heaviest
calls printed to stderr. Prints one JSON line.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import statistics
import sys
import time
from typing import Any

import numpy as np
from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from app import create_app
from bench import common, peers
from bench.latency import encode_then_suggest
from kb import accounts, embeddings, storage
from kb.models import Entry, EntryVersion, utcnow
from suggest import engine as engine_mod
from suggest.evaluation import throwaway_app
from suggest.service import SuggestRequest, suggest
from suggest.texts import version_texts

WARM_UP = 20
FIRST_ID = 1000  # above the one entry imported the ordinary way


def _bulk_rows(s: Session, rows: list[dict[str, Any]]) -> list[str]:
    """Write the rows as approved entries, one version each, in three statements; return the texts the engine
    will look up in the embedding cache for them."""
    approver = accounts.get_by_username(session=s, username="evaluator").id
    now = utcnow()
    s.execute(insert(Entry), [{"id": FIRST_ID + i, "external_id": f"bulk-{i}", "lang": "en", "tags": [],
                               "created_at": now, "row_version": 1} for i in range(len(rows))])
    s.execute(insert(EntryVersion), [
        {"id": FIRST_ID + i, "entry_id": FIRST_ID + i, "number": 1, "question": r["question"], "answer": r["answer"],
         "alternates": [], "variants": {}, "placeholders": [], "status": "approved", "comment": "",
         "author_id": approver, "approver_id": approver, "created_at": now, "approved_at": now,
         "changed_generation": 0, "row_version": 1} for i, r in enumerate(rows)])
    s.execute(update(Entry).where(Entry.id >= FIRST_ID).values(approved_version_id=Entry.id))
    s.commit()
    return [t for r in rows for t in version_texts(EntryVersion(question=r["question"], answer=r["answer"],
                                                                 alternates=[], entry=Entry(lang="en")))]


def _random_vectors(s: Session, model_id: str, dim: int, texts: list[str]) -> None:
    """Put a random unit vector for every text in the embedding cache, under the encoder's model id."""
    rng = np.random.default_rng(0)
    hashes = [embeddings.text_hash(t) for t in dict.fromkeys(texts)]
    for start in range(0, len(hashes), 20_000):
        part = hashes[start : start + 20_000]
        vectors = rng.standard_normal((len(part), dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        embeddings.store(s, model_id=model_id, vectors=dict(zip(part, vectors, strict=True)))


def measure(size: int, n_queries: int, profile: int = 0) -> dict[str, Any]:
    """Build a worker over `size` entries and time `n_queries` suggestions against their raw encodes."""
    spec = peers.english(size, n_queries * 2 + WARM_UP)
    questions = [q["query"] for q in spec["queries"]]
    config = {**common.app_config("auto"), "SUGGEST_CACHE_SIZE": 0}
    with throwaway_app(spec["entries"][:1], config=config, make_app=create_app) as app:
        with app.app_context(), storage.database(app).session() as s:
            started = time.perf_counter()
            texts = _bulk_rows(s, spec["entries"][1:])
            eng = engine_mod.engine(app)
            eng.warm_up(["en"])
            enc = eng.encoder_for("en")
            _random_vectors(s, enc.model_id, enc.dim, texts)
            loaded = time.perf_counter()
            eng.sync(s)
            synced = time.perf_counter()
            for q in questions[:WARM_UP]:
                suggest(session=s, engine=eng, request=SuggestRequest(q, lang="en"), source="bench")
            raw, whole = encode_then_suggest(s, eng, questions[WARM_UP : WARM_UP + n_queries])
            if profile:
                profiler = cProfile.Profile()
                for q in questions[WARM_UP + n_queries :]:
                    profiler.enable()
                    suggest(session=s, engine=eng, request=SuggestRequest(q, lang="en"), source="bench")
                    profiler.disable()
                pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(profile)
    p50, enc50 = statistics.median(whole), statistics.median(raw)
    return {"entries": size, "queries": len(whole), "suggest_ms_p50": round(p50, 3),
            "suggest_ms_p99": common.percentile(whole, 99),
            "encode_ms_p50": round(enc50, 3), "suggest_over_encode": round(p50 / enc50, 3),
            "rows_and_vectors_s": round(loaded - started, 1), "first_sync_s": round(synced - loaded, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--profile", type=int, default=0)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.size, args.queries, args.profile)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
