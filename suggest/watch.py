"""Bring a worker's index up to date the moment a KB change commits (PostgreSQL LISTEN/NOTIFY).

A trigger on kb_state (migration 0005) announces every new generation on the `vetted_kb` channel. Each serving
worker listens on a connection of its own in a background thread and syncs its index when told, so an approval
reaches every worker without waiting for a question, and a busy worker's questions never pay for the encoding.
Without it (and on SQLite) the next question catches the worker up: every question reads the generation.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any

from sqlalchemy.engine import make_url

from kb import storage
from suggest import engine as engine_mod

CHANNEL = "vetted_kb"
log = logging.getLogger(__name__)


def libpq_url(sqlalchemy_url: str) -> str:
    """Return a SQLAlchemy PostgreSQL URL as psycopg takes it."""
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


class Watcher:
    """A daemon thread that LISTENs for KB changes and syncs the app's engine; `stop()` ends it."""

    def __init__(self, app: Any, *, retry_s: float = 2.0) -> None:
        self.app = app
        self.retry_s = retry_s
        self.listening = threading.Event()
        self.notifications = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vetted-kb-listen", daemon=True)

    def start(self) -> Watcher:
        """Start listening in the background."""
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop listening and wait for the thread to end."""
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(libpq_url(self.app.config["DATABASE_URL"]), autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    self._sync()  # anything that committed while this worker was not listening
                    while not self._stop.is_set():
                        # A short timeout lets stop() end the thread; notifications arrive at once regardless.
                        for _ in conn.notifies(timeout=0.5, stop_after=1):
                            self.notifications += 1
                            self._sync()
            except Exception as exc:  # noqa: BLE001 - the thread must outlive a database restart; it reconnects
                # One line, not a traceback every few seconds while the database is down; polling still works.
                log.warning("listening for KB changes failed (%s); reconnecting in %.0f s",
                            str(exc).splitlines()[0] if str(exc) else type(exc).__name__, self.retry_s)
            self.listening.clear()
            self._stop.wait(self.retry_s)

    def _sync(self) -> None:
        eng = engine_mod.engine(self.app)
        if eng.generation < 0:
            return  # the index is built on the first question or at warm-up; nothing to bring up to date yet
        started = time.perf_counter()
        with storage.database(self.app).session() as s:
            before, after = eng.generation, eng.sync(s)
        if after != before:
            log.info("index brought to KB generation %s in %.0f ms", after, (time.perf_counter() - started) * 1000)


def start(app: Any) -> Watcher | None:
    """Listen for KB changes in this worker when the database can announce them (PostgreSQL)."""
    if make_url(app.config["DATABASE_URL"]).get_backend_name() != "postgresql":
        return None
    return Watcher(app).start()
