"""Locks shared by every process of one installation: a file lock on the host, and the database's own lock."""
from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, text


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


def lock_number(name: str) -> int:
    """Return a stable signed 64-bit number for a lock name (PostgreSQL advisory locks take one)."""
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "big", signed=True)


@contextmanager
def database_wide(connection: Connection, name: str) -> Iterator[None]:
    """Hold a lock named `name` against every process using this connection's database, until the block ends.

    PostgreSQL: a session advisory lock, so it outlives the commits made inside the block. SQLite: a file lock
    beside the database file (every process of a SQLite installation is on its host). In memory: nothing to share.
    """
    dialect = connection.dialect.name
    if dialect == "postgresql":
        number = lock_number(name)
        connection.execute(text("SELECT pg_advisory_lock(:n)"), {"n": number})
        try:
            yield
        finally:
            connection.rollback()
            connection.execute(text("SELECT pg_advisory_unlock(:n)"), {"n": number})
            connection.commit()
        return
    database = connection.engine.url.database
    if dialect == "sqlite" and database and database != ":memory:" and not database.startswith("file::memory"):
        digest = hashlib.blake2b(name.encode("utf-8"), digest_size=6).hexdigest()
        with file_lock(Path(f"{database}.{digest}.lock")):
            yield
        return
    yield
