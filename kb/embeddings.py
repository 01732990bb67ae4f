"""The embedding cache: vectors by (model id, text hash), so no worker or restart encodes the same text twice."""
from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from kb import storage
from kb.models import EmbeddingCache

_CHUNK = 900  # stays under SQLite's bound-parameter limit


def text_hash(text: str) -> str:
    """Return the key a text's vector is cached under."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cached(session: Session, *, model_id: str, hashes: Iterable[str]) -> dict[str, np.ndarray]:
    """Return the cached vectors among these text hashes."""
    unique = list(dict.fromkeys(hashes))
    found: dict[str, np.ndarray] = {}
    for start in range(0, len(unique), _CHUNK):
        rows = session.execute(
            select(EmbeddingCache.text_hash, EmbeddingCache.vector).where(
                EmbeddingCache.model_id == model_id, EmbeddingCache.text_hash.in_(unique[start : start + _CHUNK])
            )
        )
        for h, blob in rows:
            found[h] = np.frombuffer(blob, dtype=np.float32)
    return found


def store(session: Session, *, model_id: str, vectors: dict[str, np.ndarray]) -> None:
    """Add vectors to the cache in a transaction of their own; another worker may be adding the same ones."""
    if not vectors:
        return
    rows = [{"model_id": model_id, "text_hash": h, "vector": v.astype(np.float32).tobytes()}
            for h, v in vectors.items()]
    insert = storage.upsert_insert(session.get_bind().dialect.name)
    # The cache is written from a connection of its own, so a read path never commits the caller's session.
    with session.get_bind().engine.connect() as connection:
        connection.execute(insert(EmbeddingCache).values(rows).on_conflict_do_nothing())
        connection.commit()
