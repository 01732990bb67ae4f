"""Export a model to ONNX once per installation, however many processes start at once, and open it in onnxruntime;
the encoder that serves a sentence-transformers model that way."""
from __future__ import annotations

import fcntl
import os
import secrets
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if missing) against every other process and thread on the host."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # flock locks belong to the open file, so two threads of one process exclude each other too.
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class LoadedOnce:
    """An encoder whose model is loaded once per process on first use, however many threads ask at once: `_load`
    reads it and sets `_model` last."""

    _model: Any
    _lock: threading.Lock

    def warm_up(self) -> None:
        """Load the model unless it is loaded."""
        if self._model is not None:
            return
        with self._lock:
            if self._model is None:
                self._load()

    def _load(self) -> None:
        raise NotImplementedError


class ExportedOnce(LoadedOnce):
    """An encoder whose model is exported to `cache_path` once per installation, whatever starts at the same time,
    and opened once per process on first use: `_export` writes the file, `_open` loads it and sets `_model` last."""

    cache_path: Path

    def _load(self) -> None:
        if not self.cache_path.is_file():
            self._export()
        self._open()

    def _export(self) -> None:
        raise NotImplementedError

    def _open(self) -> None:
        raise NotImplementedError


def open_session(path: Path, threads: int = 0) -> Any:
    """Open an ONNX file in onnxruntime on the CPU, with `threads` compute threads (0: OMP_NUM_THREADS if set, which
    gunicorn.conf.py sets to one per worker, else onnxruntime's own choice)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    threads = threads or int(os.environ.get("OMP_NUM_THREADS", "0") or 0)
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def export_once(source: Path, target: Path, exporter: Callable[[Path, Path], None] | None = None) -> None:
    """Export the model at `source` to `target` (with `exporter`, by default a sentence-transformers folder's
    export) unless it is there, with every gunicorn worker and CLI command starting at once on a fresh install: one
    exports, the others wait for it and then open its file."""
    with file_lock(target.with_name(target.name + ".lock")):
        if not target.is_file():
            (exporter or export_onnx)(source, target)


@contextmanager
def written_atomically(target: Path) -> Iterator[Path]:
    """Yield a file name of this process's own to write into; on success it becomes `target` in one rename, so a
    reader sees no model or the whole model, never half of one, and two writers never share a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.{secrets.token_hex(4)}.partial")
    try:
        yield partial
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def trace_to_onnx(module: Any, sample: tuple[Any, ...], path: Path, **names: Any) -> None:
    """Trace a torch module on a sample input into an ONNX file (opset 17, the exporter's warnings silenced)."""
    import torch

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the exporter warns about tracing details that do not apply here
        torch.onnx.export(module, sample, str(path), opset_version=17, dynamo=False, **names)


def export_onnx(model_dir: Path, target: Path) -> None:
    """Export a BERT-style sentence-transformers model with mean pooling and L2 normalisation to ONNX."""
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    model = AutoModel.from_pretrained(str(model_dir)).eval()

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask,
                                token_type_ids=token_type_ids).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    sample = torch.ones(1, 8, dtype=torch.long)
    dynamic = {name: {0: "batch", 1: "tokens"} for name in ("input_ids", "attention_mask", "token_type_ids")}
    dynamic["embedding"] = {0: "batch"}
    with written_atomically(target) as partial:
        trace_to_onnx(Pooled(), (sample, sample, torch.zeros_like(sample)), partial,
                      input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["embedding"],
                      dynamic_axes=dynamic)


class OnnxEncoder(ExportedOnce):
    """A sentence-transformers model exported once to ONNX (fp32, mean pooling and normalisation inside the
    graph), then served by onnxruntime: same vectors as torch, about twice as fast, and no torch import."""

    def __init__(
        self,
        model_dir: str,
        *,
        cache_dir: str,
        name: str,
        cosine_range: tuple[float, float] = (0.15, 0.85),
        max_length: int = 256,
        threads: int = 0,
        query_max_tokens: int = 0,
    ) -> None:
        self.model_dir = Path(model_dir)
        self.query_max_tokens = query_max_tokens
        self.cache_path = Path(cache_dir) / f"{name}.onnx"
        self.model_id = f"st:{name}"
        self.cosine_range = cosine_range
        self.max_length = max_length
        self.threads = threads
        self.dim = 0
        self._model = None
        self._tokenizer = None
        self._query_tokenizer = None
        self._lock = threading.Lock()

    def _export(self) -> None:
        export_once(self.model_dir, self.cache_path)

    def _open(self) -> None:
        self._open_tokenizers()
        session = open_session(self.cache_path, self.threads)
        self.dim = int(session.get_outputs()[0].shape[-1])
        self._model = session

    def _open_tokenizers(self) -> None:
        """Read the tokenizer, cut at `max_length` for passages and at `query_max_tokens` for questions."""
        self._tokenizer = self._tokenizer_cut_at(self.max_length)
        query_limit = min(self.query_max_tokens or self.max_length, self.max_length)
        self._query_tokenizer = (self._tokenizer if query_limit == self.max_length
                                 else self._tokenizer_cut_at(query_limit))

    def _tokenizer_cut_at(self, tokens: int):  # type: ignore[no-untyped-def]
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        tokenizer.enable_truncation(tokens)
        tokenizer.enable_padding()
        return tokenizer

    def _encode(self, texts: Sequence[str], batch: int = 32, query: bool = False) -> np.ndarray:
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        tokenizer = self._query_tokenizer if query else self._tokenizer
        assert tokenizer is not None and self._model is not None
        out = []
        for start in range(0, len(texts), batch):
            encoded = tokenizer.encode_batch(list(texts[start : start + batch]))
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            out.append(self._forward(ids, mask))
        return np.concatenate(out).astype(np.float32)

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Return the normalised sentence vectors of a padded batch of token ids."""
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        vectors: np.ndarray = self._model.run(None, feeds)[0]
        return vectors

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Encode questions, each cut to `query_max_tokens`."""
        return self._encode(texts, query=True)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Encode knowledge-base texts."""
        return self._encode(texts)
