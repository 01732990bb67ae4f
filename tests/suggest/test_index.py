"""The dense index: exact search, and IVF for large knowledge bases, behind one interface."""
from __future__ import annotations

import numpy as np
import pytest

from suggest import settings as suggest_settings
from suggest.matching.index import DenseIndex


def clustered(n: int, dim: int = 32, clusters: int = 40, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    vectors = centres[rng.integers(0, clusters, n)] + rng.normal(scale=0.3, size=(n, dim))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def filled(kind: str, vectors: np.ndarray, ivf_from: int = 50_000) -> DenseIndex:
    index = DenseIndex(vectors.shape[1], kind=kind, ivf_from=ivf_from)
    index.add_many(list(range(len(vectors) // 2)), vectors.reshape(-1, 2, vectors.shape[1]))
    return index


def test_ivf_finds_what_exact_search_finds() -> None:
    vectors = clustered(6000)
    flat, ivf = filled("flat", vectors), filled("ivf", vectors)
    assert not flat.is_ivf and ivf.is_ivf
    queries = clustered(50, seed=2)
    overlap = [len({h.version_id for h in flat.search(q, k=10)} & {h.version_id for h in ivf.search(q, k=10)})
               for q in queries]
    assert sum(overlap) / (10 * len(queries)) >= 0.9
    q = queries[0]
    top = flat.search(q, k=1)[0]
    # IVF keeps its vectors at half precision: a cosine moves by about 1e-4, exact search not at all.
    assert ivf.text_scores_of(q, [top.version_id])[top.version_id].max() == pytest.approx(top.score, abs=5e-4)
    # Each text's own score, in the order the texts were added, from either index.
    own = vectors.reshape(-1, 2, vectors.shape[1])[top.version_id] @ q
    for index, tolerance in ((flat, 1e-5), (ivf, 5e-4)):
        assert index.text_scores_of(q, [top.version_id])[top.version_id] == pytest.approx(own, abs=tolerance)


def test_auto_moves_to_ivf_only_past_its_threshold() -> None:
    vectors = clustered(4000)
    assert not filled("auto", vectors).is_ivf  # the default threshold is far above 4000 texts
    small = filled("auto", vectors, ivf_from=2000)
    assert small.is_ivf
    small.add(10_000, clustered(2, seed=3))  # adding after the move still works
    assert 10_000 in small and small.search(clustered(2, seed=3)[0], k=1)[0].version_id == 10_000


def test_an_ivf_index_that_outgrows_its_lists_plans_them_again() -> None:
    """Loaded one version at a time, as a worker's first sync does, the index ends with about sqrt(n) lists for
    the n texts it holds, not for the n it held when it moved to IVF, and still finds every version."""
    vectors = clustered(9000)
    index = DenseIndex(vectors.shape[1], kind="auto", ivf_from=1000)
    for version_id, texts in enumerate(vectors.reshape(-1, 2, vectors.shape[1])):
        index.add(version_id, texts)
        if version_id == 600:
            assert index.is_ivf and index.lists == 31  # moved at 1,000 texts: sqrt(1000) lists
    assert index.lists == int(np.sqrt(8000))  # planned again at 2k, 4k and 8k texts
    index.remove(7)
    assert 7 not in index and all(h.version_id != 7 for h in index.search(vectors[14], k=20))
    for version_id in (0, 1234, 4499):
        assert index.search(vectors[2 * version_id], k=1)[0].version_id == version_id


def test_a_removed_version_is_never_found_in_ivf() -> None:
    vectors = clustered(4000)
    index = filled("ivf", vectors)
    target = vectors[10]  # version 5's first text
    assert index.search(target, k=1)[0].version_id == 5
    index.remove(5)
    assert 5 not in index
    assert all(h.version_id != 5 for h in index.search(target, k=20))
    assert index.text_scores_of(target, [5]) == {}


@pytest.mark.parametrize("kind", ["flat", "ivf"])
def test_many_versions_texts_are_scored_in_one_read(kind: str) -> None:
    vectors = clustered(4000)
    index = filled(kind, vectors)
    index.remove(9)
    q = clustered(1, seed=4)[0]
    found = index.text_scores_of(q, [3, 9, 1999, 3, 123_456])
    assert list(found) == [3, 1999]  # each version once, in the order asked; removed and unknown ones left out
    for version_id, scores in found.items():
        own = vectors.reshape(-1, 2, vectors.shape[1])[version_id] @ q
        assert scores == pytest.approx(own, abs=1e-5 if kind == "flat" else 5e-4)
        assert scores == pytest.approx(index.text_scores_of(q, [version_id])[version_id])  # alone as in a batch
    assert index.text_scores_of(q, []) == {}


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="auto, flat, ivf"):
        DenseIndex(8, kind="hnsw")


def test_the_setting_reaches_the_engine_and_a_bad_one_is_refused(app) -> None:

    assert app.config["DENSE_INDEX"] == "auto"
    ivf = suggest_settings.from_config({**app.config, "DENSE_INDEX": "ivf"}, app.instance_path)
    assert ivf.dense_index == "ivf"
    with pytest.raises(ValueError, match="DENSE_INDEX"):
        suggest_settings.from_config({**app.config, "DENSE_INDEX": "hnsw"}, app.instance_path)
