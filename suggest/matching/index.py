"""Dense index over knowledge-base texts (faiss, exact inner product); no Flask, no database."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import faiss
import numpy as np

# One question at a time is searched; OpenMP threads cost more to wake than the search itself.
faiss.omp_set_num_threads(1)


@dataclass
class DenseHit:
    version_id: int
    score: float  # best cosine over the version's texts


class DenseIndex:
    """Vectors of each version's texts; search returns versions ranked by their best-matching text."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self._next_id = 0
        self._owner: dict[int, int] = {}  # faiss id -> version id
        self._ids_of: dict[int, list[int]] = defaultdict(list)  # version id -> faiss ids

    def __len__(self) -> int:
        return len(self._ids_of)

    def __contains__(self, version_id: int) -> bool:
        return version_id in self._ids_of

    def add(self, version_id: int, vectors: np.ndarray) -> None:
        """Index a version's text vectors, replacing any it had."""
        self.remove(version_id)
        if len(vectors) == 0:
            return
        ids = np.arange(self._next_id, self._next_id + len(vectors), dtype=np.int64)
        self._next_id += len(vectors)
        self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
        for fid in ids.tolist():
            self._owner[fid] = version_id
        self._ids_of[version_id] = ids.tolist()

    def remove(self, version_id: int) -> None:
        """Drop a version's vectors."""
        ids = self._ids_of.pop(version_id, None)
        if not ids:
            return
        self._index.remove_ids(np.array(ids, dtype=np.int64))
        for fid in ids:
            self._owner.pop(fid, None)

    def search(self, query: np.ndarray, k: int = 50) -> list[DenseHit]:
        """Return up to k versions, best first."""
        total = self._index.ntotal
        if total == 0:
            return []
        # Several texts share one version, so ask for more rows than versions wanted.
        rows = min(total, k * 4)
        scores, ids = self._index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), rows)
        best: dict[int, float] = {}
        for score, fid in zip(scores[0].tolist(), ids[0].tolist(), strict=True):
            if fid < 0:
                continue
            version_id = self._owner[fid]
            if version_id not in best:
                best[version_id] = score
                if len(best) == k:
                    break
        return [DenseHit(v, s) for v, s in best.items()]

    def text_scores(self, query: np.ndarray, version_id: int) -> np.ndarray:
        """Return the cosine between `query` and each of a version's texts, in the order they were added."""
        ids = self._ids_of.get(version_id)
        if not ids:
            return np.zeros(0, dtype=np.float32)
        return np.stack([self._index.reconstruct(fid) for fid in ids]) @ query.reshape(-1)

    def score(self, query: np.ndarray, version_id: int) -> float:
        """Return the best cosine between `query` and a version's texts (0 if not indexed)."""
        ids = self._ids_of.get(version_id)
        if not ids:
            return 0.0
        vectors = np.stack([self._index.reconstruct(fid) for fid in ids])
        return float((vectors @ query.reshape(-1)).max())
