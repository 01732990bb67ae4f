"""A worker's retrieval state: encoders per language, dense and lexical indexes kept in step with the KB."""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
from flask import Flask, current_app
from sqlalchemy import Engine as SaEngine
from sqlalchemy.orm import Session

from kb import embeddings, locks, storage, suggestable
from kb.models import EntryVersion
from suggest.escalation import classifier
from suggest.matching import confidence as confidence_mod
from suggest.matching import encoders
from suggest.matching.batching import BatchedQueries, PendingVector
from suggest.matching.fusion import Candidate, Thresholds, load_table, thresholds_for
from suggest.matching.index import DenseIndex
from suggest.matching.lexical import Bm25Index, LexicalHit
from suggest.texts import LEARNED_WEIGHT, learned_texts, version_texts

EXTENSION = "vetted.suggest"
T = TypeVar("T")
Progress = Callable[[int, int], None]


@dataclass
class Retrieval:
    lang: str
    model_id: str
    cosine_range: tuple[float, float]
    thresholds: Thresholds
    candidates: list[Candidate]
    encode_ms: float
    texts: dict[int, np.ndarray] = field(default_factory=dict)  # per candidate: raw score per text

    def text_scores(self, version_id: int) -> list[float]:
        """Return the question's score against each of a candidate's texts (question, alternates, answer)."""
        return [float(s) for s in self.texts.get(version_id, ())]


class Engine:
    """Retrieval for one worker. Thread-safe; call `sync` before answering so the index matches the KB."""

    def __init__(
        self,
        *,
        lang_encoders: dict[str, str],
        backend: str = "onnx",
        cache_dir: str = "",
        thresholds: dict[str, Thresholds] | None = None,
        cache_size: int = 512,
        include_answer: bool = True,
        example_match: float = 0.915,
        encoder_factory: Callable[[str], Any] | None = None,
        query_max_tokens: int = 0,
        flag_model: classifier.FlagModel | None = None,
        confidence: confidence_mod.Model | None = None,
        batch_window_ms: float = 0.0,
        batch_max: int = 16,
        dense_index: str = "auto",
    ) -> None:
        self.lang_encoders = lang_encoders
        self.confidence = confidence
        self.backend = backend
        self.thresholds = thresholds or load_table("")
        self.include_answer = include_answer
        self.example_match = example_match
        self._factory = encoder_factory or (lambda spec: encoders.build(
            spec, backend=backend, cache_dir=cache_dir, query_max_tokens=query_max_tokens))
        self._encoders: dict[str, Any] = {}
        # Batching: questions from concurrent threads share one model call, repeats reuse their vector.
        self._queries: dict[str, BatchedQueries] = {}
        self.batch_window_ms = batch_window_ms
        self.batch_max = batch_max
        self.dense_index = dense_index  # auto: exact search, IVF for large KBs (suggest/matching/index.py)
        self._dense: dict[str, DenseIndex] = {}
        self._lexical = Bm25Index()
        self._lang_of: dict[int, str] = {}  # version id -> language
        self._served: dict[int, suggestable.Served] = {}  # version id -> what it shows, for every version held
        self._model_of: dict[int, str] = {}  # version id -> encoder model id holding it
        self._lang_keys: dict[str, list[int]] | None = None
        self._derived: dict[str, tuple[tuple[int, Hashable], Any]] = {}
        self._fixed_vectors: dict[tuple[str, str], np.ndarray] = {}
        self.generation = -1
        self._lock = threading.RLock()
        self._caches: dict[str, OrderedDict[tuple, Any]] = {}  # per kind (answers, screenings): each holds cache_size
        self._cache_size = cache_size
        self.last_sync_s = 0.0
        # Red flags recognised by meaning; a model without a head for an encoder finds nothing with it.
        self.flag_model = flag_model if flag_model is not None else classifier.shipped()

    # ----- encoders
    def encoder_for(self, lang: str) -> Any:
        """Return the encoder configured for a language, created on first use."""
        spec = self.lang_encoders.get(lang) or self.lang_encoders["*"]
        if spec not in self._encoders:
            with self._lock:
                if spec not in self._encoders:
                    self._encoders[spec] = self._factory(spec)
        return self._encoders[spec]

    def queries_for(self, lang: str) -> BatchedQueries:
        """Return the batched question encoder of a language's encoder, created on first use."""
        spec = self._spec_for(lang)
        batched = self._queries.get(spec)
        if batched is None:
            enc = self.encoder_for(lang)
            with self._lock:
                batched = self._queries.get(spec)
                if batched is None:
                    batched = self._queries[spec] = BatchedQueries(enc, window_ms=self.batch_window_ms,
                                                                   max_batch=self.batch_max)
        return batched

    def warm_up(self, langs: Sequence[str] = ("en", "he")) -> None:
        """Load the models of these languages now rather than on the first question."""
        for lang in langs:
            enc = self.encoder_for(lang)
            enc.warm_up()
            enc.encode_queries(["warm up"])

    @property
    def warm(self) -> bool:
        """Say whether every created encoder has loaded its model."""
        return bool(self._encoders) and all(getattr(e, "_model", True) is not None for e in self._encoders.values())

    # ----- keeping in step with the database
    def sync(self, session: Session, progress: Progress | None = None) -> int:
        """Apply what changed in the KB since this index's generation; return the generation `session` reads.

        Every question calls this: one primary-key read when nothing changed. A withdrawn version therefore never
        comes out of a cache keyed by the returned generation, and a new approval is matched by the next question.
        """
        current = storage.generation(session)
        if current <= self.generation:
            # Equal, or older: this session's snapshot began before another thread caught the index up.
            return current
        with self._lock:
            if current <= self.generation:
                return current
            started = time.perf_counter()
            if self.generation < 0:
                versions = suggestable.list_suggestable(session=session)
                self._add_versions(session, versions, progress)
                self.generation = current
            else:
                current, added, removed = suggestable.changes_since(session=session, generation=self.generation)
                for version in removed:
                    self._remove(version.id)
                self._add_versions(session, added, progress)
                self.generation = current
            self._caches.clear()
            self.last_sync_s = time.perf_counter() - started
        return self.generation

    def served(self, generation: int, version_ids: Sequence[int]) -> dict[int, suggestable.Served] | None:
        """Return what those of these versions the index holds show, if it holds the generation the caller read (sync
        applied every change up to it: they are the approved ones). None otherwise: the caller reads them itself."""
        with self._lock:
            if generation != self.generation:
                return None
            return {v: self._served[v] for v in version_ids if v in self._served}

    def _remove(self, version_id: int) -> None:
        model_id = self._model_of.pop(version_id, None)
        if model_id is not None:
            self._dense[model_id].remove(version_id)
        self._lang_of.pop(version_id, None)
        self._served.pop(version_id, None)
        self._lang_keys = None
        self._lexical.remove(version_id)

    def _add_versions(self, session: Session, versions: Sequence[EntryVersion], progress: Progress | None) -> None:
        by_encoder: dict[str, list[EntryVersion]] = {}
        for v in versions:
            by_encoder.setdefault(self._spec_for(v.entry.lang), []).append(v)
        done = 0
        total = len(versions)
        for _spec, group in by_encoder.items():
            enc = self.encoder_for(group[0].entry.lang)
            texts = [version_texts(v, self.include_answer) for v in group]
            vectors = self._embed_version_texts(session, enc, group, texts)
            dense = self._dense.setdefault(enc.model_id, DenseIndex(vectors.shape[1] if len(vectors) else enc.dim,
                                                                          kind=self.dense_index))
            offset = 0
            for v, ts in zip(group, texts, strict=True):
                self._remove(v.id)
                dense.add(v.id, vectors[offset : offset + len(ts)])
                offset += len(ts)
                self._model_of[v.id] = enc.model_id
                self._lang_of[v.id] = v.entry.lang
                self._served[v.id] = suggestable.Served.of(v)
                self._lang_keys = None
                self._lexical.add(v.id, " ".join([*ts[:-1], v.answer]) if self.include_answer else " ".join(ts))
                done += 1
                if progress:
                    progress(done, total)

    def _embed_version_texts(self, session: Session, enc: Any, group: Sequence[EntryVersion],
                             texts: list[list[str]]) -> np.ndarray:
        """Encode versions' texts in order: PR's texts as passages, customers' learned wordings as questions.

        A learned wording is a customer's question, so it is compared with the next customer's question the way
        two questions are compared (e5's query prefix on both sides), at LEARNED_WEIGHT of its score.
        """
        flat: list[str] = []
        is_query: list[bool] = []
        for v, ts in zip(group, texts, strict=True):
            learned = set(learned_texts(v))  # a wording PR also wrote is PR's text, encoded as written
            flat += ts
            is_query += [t in learned for t in ts]
        passages = self.embed_passages(session, enc, [t for t, q in zip(flat, is_query, strict=True) if not q])
        questions = self.embed_passages(session, enc, [t for t, q in zip(flat, is_query, strict=True) if q],
                                        as_queries=True)
        if not len(questions):
            return passages
        out = np.zeros((len(flat), passages.shape[1] if len(passages) else questions.shape[1]), dtype=np.float32)
        mask = np.asarray(is_query, dtype=bool)
        out[~mask], out[mask] = passages, questions * LEARNED_WEIGHT
        return out

    def _spec_for(self, lang: str) -> str:
        return self.lang_encoders.get(lang) or self.lang_encoders["*"]

    def embed_passages(self, session: Session, enc: Any, texts: list[str], progress: Progress | None = None,
                       batch: int = 256, as_queries: bool = False) -> np.ndarray:
        """Encode texts (as passages, or as questions), reading and filling the database cache by (model id, text
        hash); a text encoded as a question is cached under a key of its own."""
        if not texts:
            return np.zeros((0, getattr(enc, "dim", 0) or 1), dtype=np.float32)
        hashes = [embeddings.text_hash("\x00query\x00" + t if as_queries else t) for t in texts]
        encode = enc.encode_queries if as_queries else enc.encode_passages
        vectors = embeddings.cached(session, model_id=enc.model_id, hashes=hashes)
        missing = [(h, t) for h, t in dict(zip(hashes, texts, strict=True)).items() if h not in vectors]
        if missing:
            bind = session.get_bind()
            with (bind if isinstance(bind, SaEngine) else bind.engine).connect() as connection:
                for start in range(0, len(missing), batch):
                    part = missing[start : start + batch]
                    # Every worker learns of an approval at the same moment: the first to take the lock encodes
                    # the new texts and stores them, the others wait and read them from the cache instead. The lock
                    # is taken per batch, so a long reindex elsewhere holds a worker up for one batch at most.
                    with locks.database_wide(connection, f"vetted-embed:{enc.model_id}"):
                        vectors.update(embeddings.cached(session, model_id=enc.model_id, hashes=[h for h, _ in part]))
                        part = [(h, t) for h, t in part if h not in vectors]
                        if part:
                            fresh = dict(zip([h for h, _ in part], encode([t for _, t in part]),
                                             strict=True))
                            embeddings.store(session, model_id=enc.model_id, vectors=fresh)
                            vectors.update(fresh)
                    if progress:
                        progress(min(start + batch, len(missing)), len(missing))
        return np.stack([vectors[h] for h in hashes]).astype(np.float32)

    # ----- retrieval
    def encode_query(self, question: str, lang: str) -> tuple[np.ndarray, float]:
        """Encode a question with its language's encoder, batched with concurrent questions; return the vector and
        the milliseconds it took."""
        return self.queries_for(lang).timed(question)

    def begin_query(self, question: str, lang: str) -> PendingVector:
        """Start encoding a question on an encode thread; the caller does what needs no vector meanwhile."""
        return self.queries_for(lang).begin(question)

    def lexical_hits(self, question: str, lang: str, k: int = 20) -> list[LexicalHit]:
        """Return the lexical retriever's best versions in the question's language (no vector needed)."""
        with self._lock:
            return self._lexical.search(question, k=k, keys=self._keys_in(lang))

    def retrieve(self, question: str, lang: str, k: int = 20, query: np.ndarray | PendingVector | None = None,
                 words: list[LexicalHit] | None = None) -> Retrieval:
        """Return fused candidates for a question. Its vector may be passed in, known or on its way, and its lexical
        hits too, when they were found while the vector was encoded."""
        enc = self.encoder_for(lang)
        if words is None:
            words = self.lexical_hits(question, lang, k)
        if query is None:
            qvec, encode_ms = self.encode_query(question, lang)
        else:
            qvec, encode_ms = query.get() if isinstance(query, PendingVector) else (query, 0.0)
        with self._lock:
            dense = self._dense.get(enc.model_id)
            candidates: dict[int, Candidate] = {}
            if dense is not None:
                for hit in dense.search(qvec, k=k):
                    if self._lang_of.get(hit.version_id) == lang or not self._has_lang(lang):
                        candidates[hit.version_id] = Candidate(hit.version_id, dense=hit.score)
            # Every candidate's score per text, in one read of the index: the evidence confidence weighs, and the
            # dense score of what only the words found. Only versions this model's index holds now are scored (a
            # sync may have retired one since the words were searched), and the arrays are the retrieval's own: a
            # sync after the lock changes none of them.
            texts = dense.text_scores_of(qvec, [*candidates, *(w.key for w in words)]) if dense is not None else {}
            for word_hit in words:
                if word_hit.key not in candidates:
                    candidates[word_hit.key] = Candidate(word_hit.key, dense=0.0)
                candidates[word_hit.key].coverage = word_hit.coverage
            for version_id, cand in candidates.items():
                # A version's best text, exactly: IVF's search may have missed a text that sits in a list it did
                # not scan, and the confidence model was fitted on exact scores.
                own = texts.get(version_id)
                if own is not None and len(own):
                    cand.dense = max(cand.dense, float(own.max()))
        return Retrieval(
            lang=lang,
            model_id=enc.model_id,
            cosine_range=enc.cosine_range,
            thresholds=thresholds_for(self.thresholds, enc.model_id, lang),
            candidates=list(candidates.values()),
            encode_ms=encode_ms,
            texts=texts,
        )

    def _has_lang(self, lang: str) -> bool:
        return lang in self._by_lang()

    def _by_lang(self) -> dict[str, list[int]]:
        if self._lang_keys is None:
            groups: dict[str, list[int]] = {}
            for version_id, lg in self._lang_of.items():
                groups.setdefault(lg, []).append(version_id)
            self._lang_keys = groups
        return self._lang_keys

    def _keys_in(self, lang: str) -> list[int] | None:
        """Return the versions in `lang` to filter on, or None when no filter is needed."""
        groups = self._by_lang()
        if lang not in groups or len(groups) == 1:
            return None
        return groups[lang]

    def encode_fixed(self, lang: str, texts: list[str]) -> tuple[str, np.ndarray]:
        """Encode texts that rarely change (red-flag examples) as queries, remembered across KB generations."""
        enc = self.encoder_for(lang)
        missing = [t for t in dict.fromkeys(texts) if (enc.model_id, t) not in self._fixed_vectors]
        if missing:
            for text, vector in zip(missing, enc.encode_queries(missing), strict=True):
                self._fixed_vectors[(enc.model_id, text)] = vector
        return enc.model_id, np.stack([self._fixed_vectors[(enc.model_id, t)] for t in texts])

    # ----- what is derived from the KB once per generation (red-flag rules, crises, what suggestions show)
    def kept(self, generation: int, name: str, build: Callable[[], T], *, also: Hashable = None) -> T:
        """Return `build()` for this KB generation (the one the caller's session read), and `also` (a day, say),
        computed once and kept until either moves. A caller that read another generation than the index holds gets
        a value of its own, which nobody keeps: what an older snapshot reads never passes for the newer generation."""
        stamp = (generation, also)
        held = self._derived.get(name)
        if held is not None and held[0] == stamp:
            return held[1]
        value = build()  # outside the lock: it may read the database, and sync takes the lock
        if generation == self.generation:
            with self._lock:
                held = self._derived.get(name)
                if held is not None and held[0] == stamp:
                    return held[1]
                if generation == self.generation:
                    self._derived[name] = (stamp, value)
        return value

    # ----- caches
    def cached(self, generation: int, key: tuple, kind: str = "answers") -> Any:
        """Return the result cached for this key at this KB generation (the one the caller's session read), if any."""
        with self._lock:
            store = self._caches.get(kind)
            if store is None:
                return None
            value = store.get((generation, *key))
            if value is not None:
                store.move_to_end((generation, *key))
            return value

    def remember(self, generation: int, key: tuple, value: Any, kind: str = "answers") -> None:
        """Cache a result for this key at the KB generation it was computed from; each kind keeps its own room."""
        if self._cache_size <= 0 or generation != self.generation:
            return
        with self._lock:
            store = self._caches.setdefault(kind, OrderedDict())
            store[(generation, *key)] = value
            while len(store) > self._cache_size:
                store.popitem(last=False)

    def stats(self) -> dict[str, Any]:
        """Return what the index holds, for health checks."""
        return {"generation": self.generation, "versions": len(self._lang_of), "warm": self.warm,
                "encoders": sorted(e.model_id for e in self._encoders.values())}


def engine(app: Flask | None = None) -> Engine:
    """Return the app's engine."""
    return (app or current_app).extensions[EXTENSION]
