"""SQLite's writers take turns: a short write waits for the one before it to end, and is woken as soon as it does."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading

import pytest

from kb import locks, storage


def _enters_after(session) -> tuple[threading.Event, threading.Thread]:
    """Start a thread that takes the write turn; return the event it sets once inside, and the thread."""
    inside = threading.Event()

    def write() -> None:
        with locks.write_turn(session):
            inside.set()

    thread = threading.Thread(target=write)
    thread.start()
    return inside, thread


@pytest.fixture
def sqlite_file(app):
    url = storage.database(app).engine.url
    if url.get_backend_name() != "sqlite":
        pytest.skip("SQLite's write turn; PostgreSQL's row locks wait on their own")
    return url.database


def test_a_second_thread_waits_for_the_first_ones_turn(app, sqlite_file) -> None:
    with storage.database(app).session() as first, storage.database(app).session() as second:
        with locks.write_turn(first):
            inside, thread = _enters_after(second)
            assert not inside.wait(0.3)
        assert inside.wait(10)
        thread.join()
    assert stat.S_IMODE(os.stat(f"{sqlite_file}.write-turn").st_mode) == 0o600


def _another_process_gets_the_turn(sqlite_file: str) -> bool:
    script = ("import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)\n"
              "try:\n    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\nexcept BlockingIOError:\n    sys.exit(1)")
    return subprocess.run([sys.executable, "-c", script, f"{sqlite_file}.write-turn"], check=False).returncode == 0


def test_a_turn_taken_inside_a_turn_is_the_same_turn(app, sqlite_file) -> None:
    with storage.database(app).session() as first, storage.database(app).session() as second:
        with locks.write_turn(first):
            with locks.write_turn(second):  # the same thread: no wait on itself
                pass
            assert not _another_process_gets_the_turn(sqlite_file)  # the inner turn's end did not end the outer
    assert _another_process_gets_the_turn(sqlite_file)


def test_a_second_process_waits_for_the_turn(app, sqlite_file) -> None:
    script = ("import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600); "
              "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); sys.stdin.readline()")
    with subprocess.Popen([sys.executable, "-c", script, f"{sqlite_file}.write-turn"], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True) as holder:
        assert holder.stdout.readline().strip() == "held"
        with storage.database(app).session() as session:
            inside, thread = _enters_after(session)
            assert not inside.wait(0.3)  # the other process holds the turn
            holder.stdin.write("\n")
            holder.stdin.flush()
            assert inside.wait(10)  # its exit let this one in
            thread.join()


def test_postgresql_and_memory_need_no_turn(app) -> None:
    with storage.database(app).session() as session:
        if session.get_bind().engine.url.get_backend_name() == "sqlite":
            pytest.skip("the PostgreSQL case")
        with locks.write_turn(session), locks.write_turn(session):  # nothing taken: no wait, even nested
            pass
