"""How the cost of one suggestion's retrieval grows with the knowledge base, up to 100k entries, flat and IVF.

    .venv/bin/python -m bench.scaling [--sizes 1000,10000,100000] [--queries 100] [--base 300]

Encoding 100k entries with the real models takes hours on two cores, so the entries' vectors are made from
`--base` real ones (CLINC150 training utterances through the default English encoder), each copied with small
noise (cosine to its original about 0.9): a clustered cloud like real data, at the real dimension. Entry texts
for the lexical index are real utterances, cycled. Questions are real CLINC150 test questions through the real
encoder. Reported per size: the raw encode of a question (the floor), the engine's retrieval (dense + lexical +
candidates, exactly as a suggestion runs it) for the flat index and for IVF, each as CPU and wall milliseconds,
and IVF's recall of the flat index's top 10. CPU time is the number to trust on a shared machine.
Writes bench/results/scaling.json.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from typing import Any

import numpy as np

from bench import common
from suggest.matching.index import DenseIndex
from suggest.matching.lexical import Bm25Index


def _texts(limit: int) -> list[str]:
    rows = [r["question"] for r in common.read_jsonl(common.DATA / "clinc150" / "faq_all_train_utterances.jsonl.gz")]
    random.Random(5).shuffle(rows)
    return rows[:limit] if limit else rows


def _timed(fn: Any, *args: Any) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(*args)
    return out, (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def _p50(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def real_recall(args: argparse.Namespace) -> int:
    """Measure IVF against exact search on real vectors only (no synthetic copies)."""
    from suggest.matching import encoders

    enc = encoders.build(args.encoder, cache_dir=str(common.MODELS))
    texts = _texts(args.real_recall)
    vectors = np.concatenate([enc.encode_passages(texts[i : i + 64]) for i in range(0, len(texts), 64)])
    questions = [q.query for q in common.read_queries(common.DATA / "clinc150" / "queries.jsonl")]
    qvecs = enc.encode_queries(random.Random(3).sample(questions, args.queries))
    flat, ivf = DenseIndex(vectors.shape[1], kind="flat"), DenseIndex(vectors.shape[1], kind="ivf")
    for index in (flat, ivf):
        index.add_many(list(range(len(vectors))), vectors[:, None, :])
    recalls = [len({h.version_id for h in flat.search(q, k=10)} & {h.version_id for h in ivf.search(q, k=10)}) / 10
               for q in qvecs]
    row = {"real_vectors": len(vectors), "encoder": enc.model_id, "queries": len(qvecs),
           "ivf_recall_at_10_of_flat": round(sum(recalls) / len(recalls), 4),
           "ivf_top1_same": round(sum(flat.search(q, k=1)[0].version_id == ivf.search(q, k=1)[0].version_id
                                      for q in qvecs) / len(qvecs), 4)}
    print(json.dumps(row), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--base", type=int, default=300)
    parser.add_argument("--encoder", default="minilm+e5")
    parser.add_argument("--real-recall", type=int, default=0, metavar="N",
                        help="instead: IVF's recall of exact search over N real utterances encoded by --encoder")
    args = parser.parse_args(argv)
    if args.real_recall:
        return real_recall(args)
    from suggest.engine import Engine
    from suggest.matching import encoders

    enc = encoders.build(args.encoder, cache_dir=str(common.MODELS))
    enc.warm_up()
    texts = _texts(0)
    base_texts = texts[: args.base]
    base = np.concatenate([enc.encode_passages(base_texts[i : i + 32]) for i in range(0, len(base_texts), 32)])
    questions = [q.query for q in common.read_queries(common.DATA / "clinc150" / "queries.jsonl")]
    questions = random.Random(3).sample(questions, args.queries)
    qvecs, encode_wall, encode_cpu = [], [], []
    for q in questions:
        vec, wall, cpu = _timed(enc.encode_queries, [q])
        qvecs.append(vec[0])
        encode_wall.append(wall)
        encode_cpu.append(cpu)
    rng = np.random.default_rng(7)
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        # Two vectors per entry (its question, and question with answer), as the engine indexes them.
        picks = rng.integers(0, len(base), size=(size, 2))
        noise = rng.normal(0, 0.45 / np.sqrt(base.shape[1]), size=(size, 2, base.shape[1])).astype(np.float32)
        vectors = base[picks] + noise
        vectors /= np.linalg.norm(vectors, axis=2, keepdims=True)
        row: dict[str, Any] = {"entries": size, "vectors": size * 2, "dim": int(base.shape[1]),
                               "encode_ms_p50": _p50(encode_wall), "encode_cpu_ms_p50": _p50(encode_cpu)}
        lexical = Bm25Index()
        for i in range(size):
            lexical.add(i, texts[i % len(texts)])
        lexical.search("warm up the index", k=20)
        flat_top: list[list[int]] = []
        for kind in ("flat", "ivf"):
            started = time.perf_counter()
            dense = DenseIndex(base.shape[1], kind=kind)
            dense.add_many(list(range(size)), vectors)
            build_s = time.perf_counter() - started
            eng = Engine(lang_encoders={"*": "x"}, encoder_factory=lambda _spec: enc)
            eng._dense[enc.model_id] = dense
            eng._lexical = lexical
            eng._lang_of = dict.fromkeys(range(size), "en")
            eng._model_of = dict.fromkeys(range(size), enc.model_id)
            walls, cpus, recalls = [], [], []
            for n, (q, vec) in enumerate(zip(questions, qvecs, strict=True)):
                retrieval, wall, cpu = _timed(eng.retrieve, q, "en", 20, vec)
                walls.append(wall)
                cpus.append(cpu)
                top = [h.version_id for h in dense.search(vec, k=10)]
                if kind == "flat":
                    flat_top.append(top)
                else:
                    recalls.append(len(set(top) & set(flat_top[n])) / max(len(flat_top[n]), 1))
            row[f"{kind}_retrieve_ms_p50"] = _p50(walls)
            row[f"{kind}_retrieve_cpu_ms_p50"] = _p50(cpus)
            row[f"{kind}_retrieve_ms_p99"] = round(sorted(walls)[round(0.99 * (len(walls) - 1))], 3)
            row[f"{kind}_build_s"] = round(build_s, 2)
            row[f"{kind}_over_encode_cpu"] = round((_p50(encode_cpu) + _p50(cpus)) / _p50(encode_cpu), 3)
            if recalls:
                row["ivf_recall_at_10_of_flat"] = round(sum(recalls) / len(recalls), 4)
        results.append(row)
        print(json.dumps(row), flush=True)
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    (common.RESULTS / "scaling.json").write_text(json.dumps({"date": time.strftime("%Y-%m-%d"),
                                                             "results": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
