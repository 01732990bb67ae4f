"""Red flags recognised by meaning: a small one-vs-rest logistic classifier over a message's sentence vector.

Keyword and pattern rules catch what an office wants matched exactly; this model catches the many wordings no word
list foresees ("see you in front of a judge", "I don't want to be here anymore"). It is fitted by
`bench/train_redflags.py` on our own labelled messages (bench/data/redflag_training.jsonl) and shipped as
`classifier.npz` beside this file: one head per encoder model, since each model's vectors differ. Beside the
heads, one model over the message's own letters (hashed character n-grams) reads the words a vector blurs
("לחדשות", "עו\"ד", "להתאבד"); a head's probability is the mean of the two models' log-odds. Pure numpy, no Flask,
no database.
"""
from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from suggest.matching.lexical import normalise

KINDS = ("legal", "press", "safety", "privacy", "discrimination", "protest", "self_harm")
WEIGHTS = Path(__file__).with_name("classifier.npz")
_NOT_WORD = re.compile(r"[^\w]+")


def gram_ids(text: str, *, bits: int, sizes: tuple[int, int]) -> np.ndarray:
    """Return the distinct hashed character n-grams of a folded message (crc32, stable across processes)."""
    padded = " " + _NOT_WORD.sub(" ", normalise(text)).strip() + " "
    mask = (1 << bits) - 1
    ids = {zlib.crc32(padded[i:i + n].encode("utf-8")) & mask
           for n in range(sizes[0], sizes[1] + 1) for i in range(len(padded) - n + 1) if padded[i:i + n].strip()}
    return np.fromiter(sorted(ids), dtype=np.int64, count=len(ids))


@dataclass(frozen=True)
class Grams:
    """A logistic regression per kind over a message's hashed character n-grams (L2-normalised counts)."""

    bits: int
    sizes: tuple[int, int]  # shortest and longest n-gram
    weights: np.ndarray  # (2**bits, kinds)
    bias: np.ndarray  # (kinds,)

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """Return each kind's log-odds for each text, shape (n, kinds)."""
        out = np.tile(self.bias.astype(np.float64), (len(texts), 1))
        for row, text in zip(out, texts, strict=True):
            ids = gram_ids(text, bits=self.bits, sizes=self.sizes)
            if len(ids):
                row += self.weights[ids].sum(axis=0) / np.sqrt(len(ids))
        return out


@dataclass(frozen=True)
class Head:
    """A classifier for one encoder model's vectors."""

    model_id: str
    kinds: tuple[str, ...]
    mean: np.ndarray  # (dim,) centre of the training vectors
    scale: np.ndarray  # (dim,) their spread, so every dimension weighs alike
    weights: np.ndarray  # (dim, kinds)
    bias: np.ndarray  # (kinds,)
    threshold: float  # a kind is found when its probability reaches this
    kind_thresholds: np.ndarray | None = None  # (kinds,) one threshold per kind, when fitted; else `threshold`

    def logits(self, vectors: np.ndarray) -> np.ndarray:
        """Return each kind's log-odds for each vector, shape (n, kinds)."""
        z = (np.atleast_2d(np.asarray(vectors, dtype=np.float32)) - self.mean) / self.scale
        return z @ self.weights + self.bias

    def probabilities(self, vectors: np.ndarray, texts: Sequence[str] | None = None,
                      grams: Grams | None = None, letters: np.ndarray | None = None) -> np.ndarray:
        """Return each kind's probability for each vector, joined by the letters model's log-odds: given as
        `letters`, or read from the texts when a letters model is given."""
        logits = self.logits(vectors)
        if letters is None and grams is not None and texts is not None:
            letters = grams.logits(texts)
        if letters is not None:
            logits = ((logits + letters) / 2.0).astype(np.float32)
        return 1.0 / (1.0 + np.exp(-logits))

    def classify(self, vectors: np.ndarray, texts: Sequence[str] | None = None, grams: Grams | None = None,
                 letters: np.ndarray | None = None) -> list[list[tuple[str, float]]]:
        """Return, per vector, every kind found with its probability, most probable first."""
        out = []
        limits = self.kind_thresholds if self.kind_thresholds is not None else np.full(len(self.kinds),
                                                                                       self.threshold)
        for row in self.probabilities(vectors, texts, grams, letters):
            found = [(k, float(p)) for k, p, limit in zip(self.kinds, row, limits, strict=True) if p >= limit]
            out.append(sorted(found, key=lambda kp: -kp[1]))
        return out


class FlagModel:
    """The shipped heads, one per encoder model id."""

    def __init__(self, heads: Sequence[Head] = (), grams: Grams | None = None) -> None:
        self.heads = {h.model_id: h for h in heads}
        self.grams = grams

    def classify(self, vectors: np.ndarray, lang: str, *, model_id: str, texts: str | Sequence[str] | None = None,
                 letters: np.ndarray | None = None) -> list[tuple[str, float]] | list[list[tuple[str, float]]]:
        """Return the kinds found in one vector (or, for a 2-D array, in each row); none for an unknown model.

        `texts` are the messages themselves (one string for one vector): with them the letters model joins the
        vectors' head, and the head's threshold was fitted for that. `letters` is that model's reading when it was
        taken already (`FlagModel.letters`). `lang` is accepted for the callers' sake: the models are multilingual,
        trained on Hebrew and English alike.
        """
        del lang
        head = self.heads.get(model_id)
        single = np.asarray(vectors).ndim == 1
        if head is None:
            empty: list[list[tuple[str, float]]] = [[] for _ in range(len(vectors))]
            return [] if single else empty
        if isinstance(texts, str):
            texts = [texts]
        found = head.classify(vectors, texts, self.grams, letters)
        return found[0] if single else found

    def letters(self, text: str) -> np.ndarray | None:
        """Return the letters model's log-odds per kind for one message (none without a letters model): it needs
        no vector, so it is read while the message is encoded."""
        return self.grams.logits([text]) if self.grams is not None else None

    def save(self, path: Path) -> None:
        """Write the heads to one compressed .npz file (no pickles)."""
        arrays: dict[str, np.ndarray] = {"model_ids": np.array(list(self.heads))}
        for i, head in enumerate(self.heads.values()):
            arrays[f"{i}_kinds"] = np.array(head.kinds)
            arrays[f"{i}_mean"] = head.mean.astype(np.float32)
            arrays[f"{i}_scale"] = head.scale.astype(np.float32)
            arrays[f"{i}_weights"] = head.weights.astype(np.float32)
            arrays[f"{i}_bias"] = head.bias.astype(np.float32)
            arrays[f"{i}_threshold"] = np.array([head.threshold], dtype=np.float32)
            if head.kind_thresholds is not None:
                arrays[f"{i}_kind_thresholds"] = head.kind_thresholds.astype(np.float32)
        if self.grams is not None:
            # float16 halves the file; the rounding moves no probability by more than a hair
            arrays["grams_weights"] = self.grams.weights.astype(np.float16)
            arrays["grams_bias"] = self.grams.bias.astype(np.float32)
            arrays["grams_shape"] = np.array([self.grams.bits, *self.grams.sizes])
        np.savez_compressed(path, allow_pickle=False, **arrays)

    @classmethod
    def load(cls, path: Path) -> FlagModel:
        """Read heads written by `save`."""
        with np.load(path, allow_pickle=False) as data:
            heads = [
                Head(model_id=str(model_id), kinds=tuple(str(k) for k in data[f"{i}_kinds"]),
                     mean=data[f"{i}_mean"], scale=data[f"{i}_scale"], weights=data[f"{i}_weights"],
                     bias=data[f"{i}_bias"], threshold=float(data[f"{i}_threshold"][0]),
                     kind_thresholds=data[f"{i}_kind_thresholds"] if f"{i}_kind_thresholds" in data else None)
                for i, model_id in enumerate(data["model_ids"])
            ]
            grams = None
            if "grams_weights" in data:
                bits, low, high = (int(v) for v in data["grams_shape"])
                grams = Grams(bits=bits, sizes=(low, high), weights=data["grams_weights"].astype(np.float32),
                              bias=data["grams_bias"])
        return cls(heads, grams)


_shipped: FlagModel | None = None


def shipped() -> FlagModel:
    """Return the model shipped beside this file (no heads if the file is missing)."""
    global _shipped
    if _shipped is None:
        _shipped = FlagModel.load(WEIGHTS) if WEIGHTS.is_file() else FlagModel()
    return _shipped


def classify(vectors: np.ndarray, lang: str, *, model_id: str, model: FlagModel | None = None,
             texts: str | Sequence[str] | None = None) -> list:
    """Return every red-flag kind found in a message vector with its probability, most probable first."""
    return (model or shipped()).classify(vectors, lang, model_id=model_id, texts=texts)


def fit(
    vectors: np.ndarray, labels: Sequence[Sequence[str]], *, model_id: str, kinds: Sequence[str] = KINDS,
    l2: float = 1.0, threshold: float = 0.5, sample_weight: np.ndarray | None = None, iterations: int = 12,
) -> Head:
    """Fit one head: a logistic regression per kind, by Newton steps, L2-regularised.

    Each kind's positives are weighted to count as much as its negatives, since a red flag of a rare kind matters
    as much as a common one. Every other message (routine or another kind) is that kind's negative.
    """
    x = np.asarray(vectors, dtype=np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-6
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    base = np.ones(len(x)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    penalty = l2 * np.eye(z.shape[1])
    penalty[-1, -1] = 0.0  # the bias is not shrunk
    weights = np.zeros((z.shape[1], len(kinds)))
    for j, kind in enumerate(kinds):
        y = np.array([kind in row for row in labels], dtype=np.float64)
        if y.sum() == 0:
            weights[-1, j] = -10.0  # a kind with no examples is never found
            continue
        w_pos = base * y * (((1 - y) * base).sum() / max((y * base).sum(), 1e-9))
        sample = w_pos + base * (1 - y)
        sample *= len(x) / sample.sum()
        beta = np.zeros(z.shape[1])
        for _ in range(iterations):
            p = 1.0 / (1.0 + np.exp(-(z @ beta)))
            gradient = z.T @ (sample * (p - y)) + penalty @ beta
            hessian = (z * (sample * p * (1 - p))[:, None]).T @ z + penalty
            step = np.linalg.solve(hessian, gradient)
            beta -= step
            if np.abs(step).max() < 1e-4:
                break
        weights[:, j] = beta
    return Head(model_id=model_id, kinds=tuple(kinds), mean=mean.astype(np.float32),
                scale=scale.astype(np.float32), weights=weights[:-1].astype(np.float32),
                bias=weights[-1].astype(np.float32), threshold=threshold)


def fit_grams(
    texts: Sequence[str], labels: Sequence[Sequence[str]], *, kinds: Sequence[str] = KINDS, l2: float = 0.3,
    bits: int = 13, sizes: tuple[int, int] = (3, 5), iterations: int = 300,
) -> Grams:
    """Fit the letters model: per kind, an L2-regularised logistic regression over hashed character n-grams.

    Positives are weighted as in `fit`. There are 2**bits weights per kind, too many for Newton steps, so L-BFGS.
    """
    from scipy.optimize import minimize
    from scipy.sparse import csr_matrix

    ids = [gram_ids(t, bits=bits, sizes=sizes) for t in texts]
    rows = np.repeat(np.arange(len(ids)), [len(i) for i in ids])
    values = np.concatenate([np.full(len(i), 1.0 / np.sqrt(max(len(i), 1))) for i in ids]) if ids else np.zeros(0)
    x = csr_matrix((values, (rows, np.concatenate(ids) if ids else rows)), shape=(len(ids), 1 << bits))
    weights = np.zeros((1 << bits, len(kinds)))
    bias = np.zeros(len(kinds))
    for j, kind in enumerate(kinds):
        y = np.array([kind in row for row in labels], dtype=np.float64)
        if y.sum() == 0:
            bias[j] = -10.0  # a kind with no examples is never found
            continue
        sample = np.where(y == 1, (1 - y).sum() / y.sum(), 1.0)
        sample *= len(y) / sample.sum()

        def loss(beta: np.ndarray, y: np.ndarray = y, sample: np.ndarray = sample) -> tuple[float, np.ndarray]:
            w, b = beta[:-1], beta[-1]
            z = x @ w + b
            log_p, log_not_p = -np.logaddexp(0.0, -z), -np.logaddexp(0.0, z)
            value = -(sample * (y * log_p + (1 - y) * log_not_p)).sum() + 0.5 * l2 * float(w @ w)
            g = sample * (np.exp(log_p) - y)
            return value, np.append(x.T @ g + l2 * w, g.sum())

        beta = minimize(loss, np.zeros((1 << bits) + 1), jac=True, method="L-BFGS-B",
                        options={"maxiter": iterations}).x
        weights[:, j], bias[j] = beta[:-1], beta[-1]
    return Grams(bits=bits, sizes=sizes, weights=weights.astype(np.float32), bias=bias.astype(np.float32))


def from_setting(value: str) -> FlagModel:
    """Return the model a FLAG_MODEL setting names: empty for the shipped one, "off" for none, else a file."""
    value = (value or "").strip()
    if not value:
        return shipped()
    if value.lower() == "off":
        return FlagModel()
    try:
        return FlagModel.load(Path(value))
    except (OSError, KeyError, ValueError) as exc:
        raise ValueError(f"FLAG_MODEL {value!r} is not a red-flag model file: {exc}") from None


def escalate_to(found: Sequence[tuple[str, float]], rules: Sequence[Any], lang: str) -> list[tuple[int, str, float]]:
    """Return (rule id, kind, probability) for every kind found that has an active rule, most severe first.

    A kind escalates to its most severe active rule in the message's language, else in any language; a kind whose
    rules are all switched off escalates nowhere.
    """
    out = []
    for kind, probability in found:
        of_kind = sorted((r for r in rules if r.kind == kind), key=lambda r: (r.lang != lang, -r.severity))
        if of_kind:
            out.append((of_kind[0].severity, probability, of_kind[0].rule_id, kind))
    out.sort(key=lambda o: (-o[0], -o[1]))
    return [(rule_id, kind, probability) for _, probability, rule_id, kind in out]
