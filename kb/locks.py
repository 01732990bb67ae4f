"""Locks shared by every process of one installation: a file lock on the host, and the database's own lock."""
from __future__ import annotations

import fcntl
import hashlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session


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


@dataclass
class _WriteTurn:
    threads: threading.RLock  # the worker's threads, one at a time (a turn taken inside a turn is the same turn)
    handle: int  # this process's descriptor of the database's turn file, locked against the other processes
    depth: int = 0  # how deep the thread holding the turn is in it: the outermost takes and gives the file lock


_TURNS: dict[tuple[int, str], _WriteTurn] = {}
_TURNS_LOCK = threading.Lock()


def _write_turn(database: str) -> _WriteTurn:
    key = (os.getpid(), database)  # a forked worker opens its own descriptor: flock locks belong to it
    with _TURNS_LOCK:
        turn = _TURNS.get(key)
        if turn is None:
            turn = _TURNS[key] = _WriteTurn(threading.RLock(),
                                            os.open(f"{database}.write-turn", os.O_RDWR | os.O_CREAT, 0o600))
        return turn


@contextmanager
def write_turn(session: Session) -> Iterator[None]:
    """Take the database's write turn for a short write transaction (the block ends with its commit).

    SQLite lets one writer at a time, and a writer that finds the database busy sleeps between retries (1, 2, 5 …
    100 ms), so under load a short write could wait far longer than the writes before it took. Writers that take
    their turn here queue instead, and each wakes as soon as the one before it is done: threads of a worker on a
    lock, workers on a file lock beside the database. PostgreSQL locks rows and wakes its waiters itself: nothing to
    do there, nor for a database in memory.
    """
    url = session.get_bind().engine.url
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        yield
        return
    turn = _write_turn(database)
    with turn.threads:
        if turn.depth == 0:
            fcntl.flock(turn.handle, fcntl.LOCK_EX)
        turn.depth += 1
        try:
            yield
        finally:
            turn.depth -= 1
            if turn.depth == 0:
                fcntl.flock(turn.handle, fcntl.LOCK_UN)
