"""An approval reaches every worker as it commits (PostgreSQL NOTIFY), and is encoded once, not once per worker."""
from __future__ import annotations

import threading
import time

import pytest

from app import create_app
from kb import service, storage
from suggest import engine as engine_mod
from suggest import watch
from tests.conftest import ON_POSTGRES
from tests.factories import make_draft


def _approve(session, users, **fields):
    v = service.create_draft(session=session, actor=users["editor"], draft=make_draft(**fields))
    service.submit(session=session, actor=users["editor"], version_id=v.id)
    return service.approve(session=session, actor=users["approver"], version_id=v.id)


def test_workers_learning_of_one_approval_together_encode_it_once(app, config, session, users) -> None:
    other = create_app(config)  # a second worker on the same database
    try:
        engines = [engine_mod.engine(app), engine_mod.engine(other)]
        encoded: list[list[str]] = []
        for eng, a in zip(engines, (app, other), strict=True):
            with storage.database(a).session() as s:
                eng.sync(s)
            enc = eng.encoder_for("en")
            real = enc.encode_passages

            def slow(texts, real=real):
                encoded.append(list(texts))
                time.sleep(0.5)  # long enough that both workers are encoding at once unless one waits
                return real(texts)

            enc.encode_passages = slow
        version = _approve(session, users)
        start = threading.Barrier(2)

        def sync(eng, a) -> None:
            with storage.database(a).session() as s:
                start.wait()
                eng.sync(s)

        threads = [threading.Thread(target=sync, args=(eng, a)) for eng, a in zip(engines, (app, other), strict=True)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(encoded) == 1, encoded
        assert [eng._lang_of.get(version.id) for eng in engines] == ["en", "en"]
    finally:
        storage.database(other).engine.dispose()


def test_sqlite_has_nothing_to_listen_on(app) -> None:
    if ON_POSTGRES:
        pytest.skip("the SQLite case")
    assert watch.start(app) is None


@pytest.mark.skipif(not ON_POSTGRES, reason="LISTEN/NOTIFY is PostgreSQL's; run with VETTED_TEST_DB=postgresql")
def test_an_approval_reaches_an_idle_worker_as_it_commits(app, session, users) -> None:
    # No question is asked in this test, so only the notification can bring the worker up to date.
    eng = engine_mod.engine(app)
    with storage.database(app).session() as s:
        eng.sync(s)
    watcher = watch.start(app)
    assert watcher is not None
    try:
        assert watcher.listening.wait(10)
        version = _approve(session, users)
        committed = time.monotonic()
        while eng._lang_of.get(version.id) is None and time.monotonic() - committed < 1.0:
            time.sleep(0.01)
        assert eng._lang_of.get(version.id) == "en", "the approval did not reach the idle worker within 1 s"
        assert eng.generation == storage.generation(session)
        assert watcher.notifications >= 1
        service.retire(session=session, actor=users["approver"], entry_id=version.entry_id, reason="Offer over.")
        retired = time.monotonic()
        while version.id in eng._lang_of and time.monotonic() - retired < 1.0:
            time.sleep(0.01)
        assert version.id not in eng._lang_of
    finally:
        watcher.stop()
