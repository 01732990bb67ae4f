"""Several gunicorn workers stay in step with the database: an approval reaches every worker within a second,
and a retired answer is never served once its retirement has committed."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from kb import accounts, service, storage
from tests.factories import approved_entry

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def workers(app, config, tmp_path: Path):
    port = _port()
    env = {**os.environ, "VETTED_DATABASE_URL": config["DATABASE_URL"], "VETTED_ENCODER": "fake",
           "VETTED_SECRET_KEY": "workers-test", "VETTED_INSTANCE_PATH": str(tmp_path / "instance"),
           "VETTED_NOTIFY_WORKER": "false", "VETTED_SUGGEST_CACHE_SIZE": "0", "VETTED_API_RATE_LIMIT": "100000"}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    errors = (tmp_path / "gunicorn.log").open("w")
    proc = subprocess.Popen([str(gunicorn), "-c", "gunicorn.conf.py", "-w", "3", "--threads", "2",
                             "-b", f"127.0.0.1:{port}", "wsgi:app"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=errors)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1).read()
            break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        errors.close()
        pytest.fail("gunicorn did not start: " + (tmp_path / "gunicorn.log").read_text()[-2000:])
    yield base
    proc.terminate()
    proc.wait(timeout=20)
    errors.close()


def _ask(base: str, key: str, question: str) -> list[int]:
    request = urllib.request.Request(f"{base}/api/v1/suggest", method="POST",
                                     data=json.dumps({"question": question, "k": 5}).encode(),
                                     headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return [s["entry_id"] for s in json.loads(response.read())["suggestions"]]


def _hammer(base: str, key: str, question: str, stop: threading.Event, log: list, failures: list) -> None:
    while not stop.is_set():
        sent = time.monotonic()
        try:
            ids = _ask(base, key, question)
            log.append((sent, time.monotonic(), ids))
        except OSError as exc:  # recorded, and the test fails on it: a worker must never error
            failures.append(repr(exc))


def test_changes_reach_every_worker(app, session, users, workers) -> None:
    key = accounts.create_api_key(session=session, user=users["agent"], scopes=["suggest"])[1]
    question = "How do I restart my router?"
    assert _ask(workers, key, question) == []
    stop, log, failures = threading.Event(), [], []
    threads = [threading.Thread(target=_hammer, args=(workers, key, question, stop, log, failures))
               for _ in range(6)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    version = approved_entry(session, users)
    approved_at = time.monotonic()
    time.sleep(2.0)
    retiring_at = time.monotonic()
    service.retire(session=session, actor=users["approver"], entry_id=version.entry_id, reason="Offer over.")
    retired_at = time.monotonic()
    time.sleep(1.0)
    stop.set()
    for t in threads:
        t.join()
    assert failures == []
    with_entry = [(sent, done, version.entry_id in ids) for sent, done, ids in log]
    assert len(with_entry) > 100
    late_misses = [sent - approved_at for sent, done, seen in with_entry
                   if sent > approved_at + 1.0 and done < retiring_at and not seen]
    assert late_misses == [], "a worker still missed the approval a second after it committed"
    served_after_retirement = [sent - retired_at for sent, _, seen in with_entry if sent > retired_at and seen]
    assert served_after_retirement == [], "a retired answer was served after its retirement committed"
    storage.database(app).engine.dispose()
