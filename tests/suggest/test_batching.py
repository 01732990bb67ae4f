"""The micro-batcher: concurrent questions share one encoder call, each gets its own vector back."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from suggest.matching.batching import BatchedQueries, MicroBatcher, VectorCache
from suggest.matching.encoders import FakeEncoder


class Recording:
    """An encoder that records each call's texts and can be held until released."""

    def __init__(self, delay: float = 0.0, fail: Exception | None = None) -> None:
        self.calls: list[list[str]] = []
        self.delay = delay
        self.fail = fail
        self.lock = threading.Lock()

    def __call__(self, texts):
        with self.lock:
            self.calls.append(list(texts))
        time.sleep(self.delay)
        if self.fail is not None:
            raise self.fail
        # Each text's vector is derived from the text alone, so a waiter can check it got its own.
        return np.array([[float(len(t)), float(sum(map(ord, t)))] for t in texts], dtype=np.float32)


def expected(text: str) -> list[float]:
    return [float(len(text)), float(sum(map(ord, text)))]


def run_concurrently(batcher: MicroBatcher, texts: list[str]) -> tuple[dict[str, object], list[BaseException]]:
    results: dict[str, object] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(len(texts))

    def ask(text: str) -> None:
        start.wait()
        try:
            results[text] = batcher.encode(text).tolist()
        except BaseException as exc:  # noqa: BLE001 - collected for the assertions
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return results, errors


def test_concurrent_submitters_share_calls_and_get_their_own_vectors() -> None:
    encode = Recording(delay=0.02)
    batcher = MicroBatcher(encode, window_ms=50, max_batch=64)
    texts = [f"question number {i} " + "x" * i for i in range(12)]
    results, errors = run_concurrently(batcher, texts)
    assert not errors
    assert {t: results[t] for t in texts} == {t: expected(t) for t in texts}
    # Twelve questions asked at once are encoded in far fewer calls than twelve, and none is encoded twice.
    assert len(encode.calls) <= 3
    assert sorted(t for call in encode.calls for t in call) == sorted(texts)


def test_a_batch_keeps_its_order() -> None:
    encode = Recording()
    batcher = MicroBatcher(encode, window_ms=30, max_batch=64)
    results, errors = run_concurrently(batcher, ["a", "bb", "ccc", "dddd"])
    assert not errors
    for call in encode.calls:
        for text in call:
            assert results[text] == expected(text)


def test_max_batch_caps_a_call_and_does_not_wait_out_the_window() -> None:
    encode = Recording()
    batcher = MicroBatcher(encode, window_ms=5000, max_batch=4)
    started = time.monotonic()
    results, errors = run_concurrently(batcher, [f"q{i}" for i in range(8)])
    assert not errors and len(results) == 8
    assert max(len(c) for c in encode.calls) <= 4
    assert time.monotonic() - started < 4  # two full batches go at once, not after the 5 s window


def test_a_lone_question_waits_no_longer_than_the_window() -> None:
    encode = Recording()
    batcher = MicroBatcher(encode, window_ms=40, max_batch=16)
    started = time.monotonic()
    vector = batcher.encode("alone")
    elapsed = time.monotonic() - started
    assert vector.tolist() == expected("alone")
    assert 0.035 <= elapsed < 0.3
    assert encode.calls == [["alone"]]


def test_no_window_means_no_wait() -> None:
    batcher = MicroBatcher(Recording(), window_ms=0)
    started = time.monotonic()
    batcher.encode("now")
    assert time.monotonic() - started < 0.03


def test_without_a_window_questions_asked_during_an_encode_share_the_next_call() -> None:
    # The default: no question waits for company, yet under load batches still form from what queues meanwhile.
    encode = Recording(delay=0.2)
    batcher = MicroBatcher(encode, window_ms=0, max_batch=16)
    first = threading.Thread(target=batcher.encode, args=("first",))
    first.start()
    while not encode.calls:  # the first question is being encoded
        time.sleep(0.001)
    results, errors = run_concurrently(batcher, [f"later {i}" for i in range(5)])
    first.join(5)
    assert not errors and len(results) == 5
    assert encode.calls[0] == ["first"]
    assert sorted(encode.calls[1]) == sorted(results) and len(encode.calls) == 2


def test_an_encoder_error_reaches_every_waiter_of_the_batch() -> None:
    encode = Recording(delay=0.01, fail=RuntimeError("model crashed"))
    batcher = MicroBatcher(encode, window_ms=50, max_batch=64)
    results, errors = run_concurrently(batcher, ["one", "two", "three", "four"])
    assert results == {}
    assert len(errors) == 4
    assert all(isinstance(e, RuntimeError) and "model crashed" in str(e) for e in errors)
    # The batcher is not left stuck: the next question is answered once the encoder recovers.
    encode.fail = None
    assert batcher.encode("five").tolist() == expected("five")


def test_a_wrong_number_of_vectors_is_an_error_not_a_mix_up() -> None:
    batcher = MicroBatcher(lambda texts: np.zeros((len(texts) + 1, 2), dtype=np.float32), window_ms=0)
    with pytest.raises(RuntimeError, match="2 vectors for 1 texts"):
        batcher.encode("one")


def test_vectors_match_the_encoder_called_one_at_a_time() -> None:
    encoder = FakeEncoder()
    batched = BatchedQueries(encoder, window_ms=20, max_batch=8)
    texts = ["where is my refund", "איפה ההחזר שלי", "reset my password", "לאפס סיסמה"]
    results: dict[str, np.ndarray] = {}

    def ask(text: str) -> None:
        results[text] = batched.encode_query(text)

    threads = [threading.Thread(target=ask, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    for text in texts:
        np.testing.assert_allclose(results[text], encoder.encode_queries([text])[0], rtol=1e-6)


def test_a_repeated_question_is_not_encoded_again() -> None:
    encoder = FakeEncoder()
    batched = BatchedQueries(encoder, window_ms=0)
    first = batched.encode_query("where is my refund")
    calls = encoder.query_calls
    again = batched.encode_query("where is my refund")
    assert encoder.query_calls == calls
    np.testing.assert_array_equal(first, again)


def test_the_vector_cache_drops_the_least_recently_used() -> None:
    cache = VectorCache(2)
    cache.put("a", np.ones(2))
    cache.put("b", np.ones(2))
    assert cache.get("a") is not None  # "a" is now more recent than "b"
    cache.put("c", np.ones(2))
    assert cache.get("b") is None and cache.get("a") is not None and cache.get("c") is not None


def test_the_engine_batches_concurrent_questions(app) -> None:
    from suggest import engine as engine_mod

    eng = engine_mod.engine(app)
    eng.batch_window_ms = 50
    eng._queries.clear()
    texts = [f"how do I change plan number {i}" for i in range(6)]
    barrier = threading.Barrier(len(texts))
    vectors: dict[str, np.ndarray] = {}

    def ask(text: str) -> None:
        barrier.wait()
        vectors[text] = eng.encode_query(text, "en")[0]

    threads = [threading.Thread(target=ask, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    batcher = eng.queries_for("en").batcher
    assert batcher.encoded == len(texts) and batcher.batches < len(texts)
    for text in texts:
        np.testing.assert_allclose(vectors[text], eng.encoder_for("en").encode_queries([text])[0], rtol=1e-6)



class Gated:
    """A question encoder held until the test lets it go; it records the thread each call ran on."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.threads: list[int] = []
        self.inner = FakeEncoder()

    def encode_queries(self, texts):
        self.threads.append(threading.get_ident())
        assert self.gate.wait(10), "the encode was never let go"
        return self.inner.encode_queries(texts)


def test_begin_returns_while_the_question_is_encoded_on_another_thread() -> None:
    encoder = Gated()
    batched = BatchedQueries(encoder, window_ms=0)
    pending = batched.begin("where is my refund")  # returns although the encoder is held
    encoder.gate.set()
    vector, took_ms = pending.get()
    np.testing.assert_allclose(vector, encoder.inner.encode_queries(["where is my refund"])[0], rtol=1e-6)
    assert encoder.threads and encoder.threads[0] != threading.get_ident() and took_ms > 0


def test_begin_hands_back_a_known_question_at_once_and_encodes_nothing() -> None:
    encoder = Gated()
    encoder.gate.set()
    batched = BatchedQueries(encoder, window_ms=0)
    first = batched.encode_query("where is my refund")
    vector, took_ms = batched.begin("where is my refund").get()
    assert len(encoder.threads) == 1 and took_ms == 0.0
    np.testing.assert_array_equal(vector, first)


def test_an_encoder_error_reaches_the_asker_of_begin() -> None:
    batched = BatchedQueries(type("Broken", (), {"encode_queries": Recording(fail=RuntimeError("model gone"))})(),
                             window_ms=0)
    pending = batched.begin("where is my refund")
    with pytest.raises(RuntimeError, match="model gone"):
        pending.get()


FORKED = """
import os, signal
from suggest.matching.batching import BatchedQueries
from suggest.matching.encoders import EnsembleEncoder, FakeEncoder
ensemble = EnsembleEncoder([(FakeEncoder(), 1.0), (FakeEncoder(64), 1.0)])
batched = BatchedQueries(ensemble, window_ms=0)
batched.begin("asked before the fork").get()  # both pools now exist, with idle threads
pid = os.fork()
if pid == 0:
    signal.alarm(5)  # a hang ends the child with SIGALRM
    batched.begin("asked in the child").get()
    os._exit(0)
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status))
"""


def test_a_forked_child_encodes_on_threads_of_its_own() -> None:
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", FORKED], capture_output=True, text=True, timeout=60, cwd=root)
    assert out.stdout.strip() == "0", out.stderr[-2000:]
