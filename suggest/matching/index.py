"""Dense index over knowledge-base texts (faiss: exact inner product, or IVF at half precision for large KBs); no Flask,
no database."""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import faiss
import numpy as np

# One question at a time is searched; OpenMP threads cost more to wake than the search itself.
faiss.omp_set_num_threads(1)

# Index kinds: exact search; IVF (inverted lists, approximate); auto: exact until the index holds IVF_FROM
# vectors, then IVF. Measured (BENCHMARKS.md, bench/scaling.py, CPU per question, 768 dimensions): exact search
# costs 6.6 ms at 20k vectors (10k entries) and 52 ms at 200k, IVF 3.1 and 6.5 ms; the question's encode is
# about 30 ms, and a suggestion should cost at most 1.3x the encode at 10k entries.
KINDS = ("auto", "flat", "ivf")
IVF_FROM = 16_000
IVF_MIN = 1_000  # an IVF index asked for explicitly is still exact below this many vectors (too few to train)
# An IVF index has sqrt(n) lists for the n vectors it was planned for, and a question scans `nprobe` of them. A KB
# that keeps growing fills those lists instead: a 100k-entry KB loaded from scratch moved at 16k vectors, kept 126
# lists for 200k, scanned 3.6 times the vectors planned and searched in 11 ms instead of 3. So once it holds
# REPLAN_AT times what it was planned for, it is planned again (a doubling: a few times in a KB's life).
REPLAN_AT = 2


@dataclass
class DenseHit:
    version_id: int
    score: float  # best cosine over the version's texts


class DenseIndex:
    """Vectors of each version's texts; search returns versions ranked by their best-matching text."""

    def __init__(self, dim: int, kind: str = "auto", ivf_from: int = IVF_FROM, nprobe: int = 24) -> None:
        if kind not in KINDS:
            raise ValueError(f"dense index kind must be one of {', '.join(KINDS)}")
        self.dim = dim
        self.kind = kind
        self.ivf_from = ivf_from if kind == "auto" else IVF_MIN
        self.nprobe = nprobe
        self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self._quantizer = None  # kept alive beside the IVF index that uses it
        self._planned_for = 0  # vectors the IVF lists were planned for
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
        self._maybe_ivf()

    def add_many(self, version_ids: list[int], vectors: np.ndarray) -> None:
        """Index many new versions at once: vectors[i] holds version_ids[i]'s texts (same count each)."""
        per = vectors.shape[1]
        ids = np.arange(self._next_id, self._next_id + len(version_ids) * per, dtype=np.int64)
        self._next_id += len(ids)
        self._index.add_with_ids(np.ascontiguousarray(vectors.reshape(-1, self.dim), dtype=np.float32), ids)
        for n, version_id in enumerate(version_ids):
            own = ids[n * per : (n + 1) * per].tolist()
            for fid in own:
                self._owner[fid] = version_id
            self._ids_of[version_id] = own
        self._maybe_ivf()

    @property
    def is_ivf(self) -> bool:
        """Say whether search is approximate (IVF) now."""
        return self._quantizer is not None

    def _maybe_ivf(self) -> None:
        """Move to IVF once the index is large enough, if its kind allows it, and plan its lists again each time it
        outgrows them."""
        total = self._index.ntotal
        if self.kind == "flat" or total < self.ivf_from or (self.is_ivf and total < REPLAN_AT * self._planned_for):
            return
        if self.is_ivf:
            ids = np.fromiter(self._owner, dtype=np.int64, count=len(self._owner))
            vectors = self._index.reconstruct_batch(ids)
        else:
            vectors = self._index.index.reconstruct_n(0, total)
            ids = faiss.vector_to_array(self._index.id_map).astype(np.int64)
        nlist = max(8, int(math.sqrt(total)))
        quantizer = faiss.IndexFlatIP(self.dim)
        # Vectors kept at half precision: the lists are read from memory on every question, and half the bytes
        # halve the search; cosines move by about 1e-4, below any decision's resolution.
        ivf = faiss.IndexIVFScalarQuantizer(quantizer, self.dim, nlist, faiss.ScalarQuantizer.QT_fp16,
                                            faiss.METRIC_INNER_PRODUCT)
        ivf.by_residual = False
        sample = vectors[np.random.default_rng(0).permutation(total)[: 40 * nlist]]
        ivf.cp.min_points_per_centroid = 1  # small KBs: train on what there is without warnings
        ivf.train(sample)
        ivf.set_direct_map_type(faiss.DirectMap.Hashtable)  # reconstruct and remove by id
        ivf.add_with_ids(vectors, ids)
        ivf.nprobe = min(self.nprobe, nlist)
        self._index, self._quantizer, self._planned_for = ivf, quantizer, total

    @property
    def lists(self) -> int:
        """Return how many inverted lists the index has (0 while it searches exactly)."""
        return int(self._index.nlist) if self.is_ivf else 0

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

    def text_scores_of(self, query: np.ndarray, version_ids: list[int]) -> dict[int, np.ndarray]:
        """Return, for each of these versions that is indexed, the cosine between `query` and each of its texts, in
        the order they were added."""
        held = [(version_id, self._ids_of[version_id]) for version_id in dict.fromkeys(version_ids)
                if self._ids_of.get(version_id)]
        if not held:
            return {}
        # One call for every vector wanted (flat and IVF alike: IVF keeps a direct map by id), and one product.
        ids = np.fromiter((fid for _, own in held for fid in own), dtype=np.int64)
        scores = self._index.reconstruct_batch(ids) @ query.reshape(-1)
        out, start = {}, 0
        for version_id, own in held:
            out[version_id] = scores[start : start + len(own)]
            start += len(own)
        return out
