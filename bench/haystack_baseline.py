"""Haystack's in-memory embedding retriever on the same MiniLM model, as a baseline in the same run."""
from __future__ import annotations

import statistics
import time
from typing import Any

from suggest.evaluation import QueryRow
from suggest.matching.encoders import shipped_minilm_path


def evaluate_haystack(faq: list[dict], queries: list[QueryRow], top_k: int = 5) -> dict[str, Any]:
    """Index question + answer per FAQ row, retrieve top-k per query, and score like the eval contract."""
    from haystack import Document
    from haystack.components.retrievers.in_memory import InMemoryEmbeddingRetriever
    from haystack.document_stores.in_memory import InMemoryDocumentStore
    from sentence_transformers import SentenceTransformer

    # Haystack 3 moved its sentence-transformers embedders out of the core package; the same model embeds
    # here directly, and Haystack's document store and retriever do the matching.
    model = SentenceTransformer(str(shipped_minilm_path()), device="cpu")
    store = InMemoryDocumentStore(embedding_similarity_function="cosine")
    texts = [f"{r.get('question') or ''}\n{r.get('answer') or ''}" for r in faq]
    vectors = model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
    store.write_documents([Document(content=t, embedding=v.tolist(), meta={"faq_id": str(r["id"])})
                           for t, v, r in zip(texts, vectors, faq, strict=True)])
    retriever = InMemoryEmbeddingRetriever(document_store=store, top_k=top_k)

    def ask(text: str) -> list[Any]:
        embedding = model.encode([text], normalize_embeddings=True, show_progress_bar=False)[0]
        return retriever.run(query_embedding=embedding.tolist())["documents"]
    hits1 = hits5 = answerable = 0
    rr = 0.0
    latencies = []
    for q in queries:
        started = time.perf_counter()
        documents = ask(q.query)
        latencies.append((time.perf_counter() - started) * 1000)
        if not q.relevant or q.expected != "answer":
            continue
        answerable += 1
        ranking = [d.meta["faq_id"] for d in documents]
        first = next((i for i, d in enumerate(ranking) if d in set(q.relevant)), None)
        hits1 += first == 0
        hits5 += first is not None and first < 5
        rr += 1 / (first + 1) if first is not None else 0.0
    ordered = sorted(latencies)
    return {
        "n_queries": len(queries),
        "p_at_1": round(hits1 / answerable, 4) if answerable else None,
        "mrr": round(rr / answerable, 4) if answerable else None,  # over the top 5 only
        "recall_at_5": round(hits5 / answerable, 4) if answerable else None,
        "latency_ms_p50": round(statistics.median(latencies), 3) if latencies else None,
        "latency_ms_p99": round(ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))], 3)
        if ordered else None,
    }
