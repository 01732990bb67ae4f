"""Faults: an import killed mid-way writes nothing; a worker killed mid-request is replaced and nothing is lost."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from kb import accounts, storage, suggestable
from kb.models import Entry
from tests.conftest import ON_POSTGRES
from tests.factories import approved_entry

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _env(config: dict, tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "FLASK_APP": "app", "VETTED_DATABASE_URL": config["DATABASE_URL"], "VETTED_ENCODER": "fake",
            "VETTED_SECRET_KEY": "faults", "VETTED_INSTANCE_PATH": str(tmp_path / "instance"),
            "VETTED_NOTIFY_WORKER": "false", "VETTED_API_RATE_LIMIT": "100000"}


def test_an_import_killed_midway_writes_nothing(app, config, session, tmp_path: Path) -> None:
    rows = [{"id": f"k{i}", "question": f"Question number {i} about routers?", "answer": f"Answer {i}.",
             "lang": "en"} for i in range(20000)]
    src = tmp_path / "big.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    flask = Path(sys.executable).parent / "flask"
    proc = subprocess.Popen([str(flask), "kb", "import", str(src), "--approve-as", "approver"], cwd=ROOT,
                            env=_env(config, tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(3.0)  # well into writing rows, long before the one commit at the end
    assert proc.poll() is None, "the import finished before it could be killed; make the file bigger"
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=10)
    assert session.scalar(select(func.count()).select_from(Entry)) == 0
    if not ON_POSTGRES:
        assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"


def test_a_worker_killed_mid_request_is_replaced_and_nothing_is_lost(app, config, session, users,
                                                                     tmp_path: Path) -> None:
    v = approved_entry(session, users)
    key = accounts.create_api_key(session=session, user=users["agent"], scopes=["suggest"])[1]
    from tests.test_workers import _ask, _port

    port = _port()
    log = (tmp_path / "gunicorn.log").open("w")
    master = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "-w", "2",
                               "-b", f"127.0.0.1:{port}", "wsgi:app"], cwd=ROOT, env=_env(config, tmp_path),
                              stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1).read()
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        assert v.entry_id in _ask(base, key, "How do I restart my router?")
        children = subprocess.run(["pgrep", "-P", str(master.pid)], capture_output=True, text=True).stdout.split()
        assert len(children) == 2
        os.kill(int(children[0]), signal.SIGKILL)
        answered = 0
        deadline = time.monotonic() + 20
        while answered < 20 and time.monotonic() < deadline:
            try:
                assert v.entry_id in _ask(base, key, "How do I restart my router?")
                answered += 1
            except OSError:
                time.sleep(0.2)  # a request the dead worker had accepted; the next ones go to live workers
        assert answered == 20
        replaced = subprocess.run(["pgrep", "-P", str(master.pid)], capture_output=True, text=True).stdout.split()
        assert len(replaced) == 2 and children[0] not in replaced
    finally:
        master.terminate()
        master.wait(timeout=20)
        log.close()
    session.expire_all()
    assert [x.id for x in suggestable.list_suggestable(session=session)] == [v.id]
    storage.database(app).engine.dispose()
