"""Micro-batching of question encodes: questions asked at the same moment by a worker's threads share one call."""
from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

EncodeBatch = Callable[[Sequence[str]], np.ndarray]


class ThreadPool:
    """A thread pool made on first use, and made again in a forked child: a child inherits the parent's pool but
    none of its threads, so work submitted to it there would never run."""

    def __init__(self, workers: int, name: str) -> None:
        self.workers, self.name = workers, name
        self._pool: ThreadPoolExecutor | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Run fn(*args) on one of the pool's threads."""
        if self._pool is None or self._pid != os.getpid():
            with self._lock:
                if self._pool is None or self._pid != os.getpid():
                    self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix=self.name)
                    self._pid = os.getpid()
        return self._pool.submit(fn, *args)


class _Pending:
    __slots__ = ("text", "arrived", "vector", "error", "done")

    def __init__(self, text: str) -> None:
        self.text = text
        self.arrived = time.monotonic()
        self.vector: np.ndarray | None = None
        self.error: BaseException | None = None
        self.done = False


class MicroBatcher:
    """Encode questions in batches: a thread submits one question and waits for its vector.

    The first waiting thread leads: it waits until the oldest queued question is `window_ms` old or `max_batch`
    questions are queued, encodes them in one call and hands each waiter its own vector. Questions that arrive
    while a batch is being encoded form the next batch, so under load batches grow without any extra wait, and a
    lone question waits at most the window. One batch is encoded at a time: the model call itself uses the cores.
    """

    def __init__(self, encode: EncodeBatch, *, window_ms: float = 0.0, max_batch: int = 16) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._encode = encode
        self.window = max(0.0, window_ms) / 1000
        self.max_batch = max_batch
        self._queue: list[_Pending] = []
        self._leading = False
        self._cond = threading.Condition()
        self.batches = 0  # counters, for tests and the health page
        self.encoded = 0

    def encode(self, text: str) -> np.ndarray:
        """Return the vector of one question, encoded together with whatever else is queued."""
        item = _Pending(text)
        with self._cond:
            self._queue.append(item)
            if len(self._queue) >= self.max_batch:
                self._cond.notify_all()  # a leader waiting out its window can go now
        while True:
            with self._cond:
                while not item.done and self._leading:
                    self._cond.wait()
                if item.done:
                    break
                self._leading = True
                batch = self._take_batch()
            self._run(batch)
        if item.error is not None:
            raise item.error
        assert item.vector is not None
        return item.vector

    def _take_batch(self) -> list[_Pending]:
        """Wait out the window of the oldest queued question (lock held), then take up to max_batch."""
        deadline = self._queue[0].arrived + self.window
        while len(self._queue) < self.max_batch:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._cond.wait(remaining)
        batch = self._queue[: self.max_batch]
        del self._queue[: self.max_batch]
        return batch

    def _run(self, batch: list[_Pending]) -> None:
        try:
            vectors = self._encode([p.text for p in batch])
            if len(vectors) != len(batch):
                raise RuntimeError(f"the encoder returned {len(vectors)} vectors for {len(batch)} texts")
            for p, vector in zip(batch, vectors, strict=True):
                p.vector = vector
        except BaseException as exc:  # noqa: BLE001 - every waiter of the batch gets the encoder's error
            for p in batch:
                p.error = exc
        finally:
            with self._cond:
                for p in batch:
                    p.done = True
                self._leading = False
                self.batches += 1
                self.encoded += len(batch)
                self._cond.notify_all()


class VectorCache:
    """Question vectors by text, least recently used first out; a model's vector of a text never changes."""

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str) -> np.ndarray | None:
        """Return the cached vector of `text`, if any."""
        with self._lock:
            vector = self._items.get(text)
            if vector is not None:
                self._items.move_to_end(text)
            return vector

    def put(self, text: str, vector: np.ndarray) -> None:
        """Keep the vector of `text`."""
        if self.size <= 0:
            return
        with self._lock:
            self._items[text] = vector
            self._items.move_to_end(text)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


class PendingVector:
    """A question's vector on its way: encoded on an encode thread while the asking thread does the work that does
    not need it (the red-flag words, the lexical search, the database reads)."""

    __slots__ = ("_future", "_vector", "_ms")

    def __init__(self, future: Future[tuple[np.ndarray, float]] | None = None,
                 vector: np.ndarray | None = None) -> None:
        self._future, self._vector, self._ms = future, vector, 0.0

    def get(self) -> tuple[np.ndarray, float]:
        """Wait for the vector; return it with the milliseconds its encode took (0 when it was known)."""
        if self._vector is None:
            assert self._future is not None
            self._vector, self._ms = self._future.result()  # an encoder's error is raised here, in the asker
        return self._vector, self._ms


class BatchedQueries:
    """One encoder's question side: a vector cache in front of a micro-batcher."""

    def __init__(self, encoder: Any, *, window_ms: float = 0.0, max_batch: int = 16, cache_size: int = 2048) -> None:
        self.encoder = encoder
        self.cache = VectorCache(cache_size)
        self.batcher = MicroBatcher(encoder.encode_queries, window_ms=window_ms, max_batch=max_batch)
        self._pool = ThreadPool(max_batch, "query")

    def encode_query(self, text: str) -> np.ndarray:
        """Return one question's vector: from the cache, else batched with concurrent questions."""
        vector = self.cache.get(text)
        if vector is None:
            vector = self.batcher.encode(text)
            self.cache.put(text, vector)
        return vector

    def begin(self, text: str) -> PendingVector:
        """Start encoding one question on an encode thread and return at once; a cached vector is ready now.

        The models release the GIL while they compute, so the asking thread's Python work runs beside the encode
        on the other core. A full batch's worth of encode threads lets as many questions queue in the batcher."""
        vector = self.cache.get(text)
        if vector is not None:
            return PendingVector(vector=vector)
        return PendingVector(self._pool.submit(self.timed, text))

    def timed(self, text: str) -> tuple[np.ndarray, float]:
        """Return one question's vector (as `encode_query`) and the milliseconds it took."""
        started = time.perf_counter()
        vector = self.encode_query(text)
        return vector, (time.perf_counter() - started) * 1000
