"""A bounded load test on loopback: gunicorn workers held at a steady rate of suggestions for a while, while
an editor and an approver keep saving and approving. Reports 5xx (must be zero), lost or duplicated writes
(must be zero) and the latency percentiles.

    .venv/bin/python -m bench.load [--rate 20] [--seconds 60] [--workers 3] [--encoder auto]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench import common

ROOT = common.ROOT


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=20.0, help="suggestions per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--encoder", default="auto")
    args = parser.parse_args(argv)
    from app import create_app
    from kb import accounts, demo, redflags, service, storage
    from kb.models import AuditEvent, EntryVersion

    tmp = Path(tempfile.mkdtemp(prefix="vetted-load-"))
    url = f"sqlite:///{tmp / 'load.db'}"
    storage.migrate(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "load", "ENCODER": "fake", "INSTANCE_PATH": str(tmp)})
    with storage.database(app).session() as s:
        from kb import owners

        owners.ensure_defaults(session=s)
        redflags.ensure_default_rules(session=s)
        demo.load(session=s)
        key = accounts.create_api_key(session=s, user=accounts.get_by_username(session=s, username="agent"),
                                      scopes=["suggest"])[1]
    port = _port()
    env = {**os.environ, "VETTED_DATABASE_URL": url, "VETTED_ENCODER": args.encoder, "VETTED_SECRET_KEY": "load",
           "VETTED_INSTANCE_PATH": str(tmp), "VETTED_MODEL_CACHE": str(common.MODELS), "VETTED_WARM_UP": "true",
           "VETTED_API_RATE_LIMIT": "1000000", "VETTED_NOTIFY_WORKER": "false"}
    log = (tmp / "gunicorn.log").open("w")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "-w",
                             str(args.workers), "--threads", "4", "-b", f"127.0.0.1:{port}", "wsgi:app"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    questions = [r["question"] for r in demo.demo_rows(dt.date.today())] + ["what is the meaning of life"]
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("gunicorn did not start") from None
                time.sleep(0.3)
        for q in questions[:10]:  # every worker loads its models before the clock starts
            _ask(base, key, q)
        results: list[tuple[int, float]] = []
        lock = threading.Lock()

        def fire(question: str) -> None:
            started = time.perf_counter()
            status = _ask(base, key, question)
            with lock:
                results.append((status, (time.perf_counter() - started) * 1000))

        writes = {"saved": 0, "approved": 0, "errors": 0}
        stop = threading.Event()

        def editing() -> None:
            with storage.database(app).session() as s:
                editor = accounts.get_by_username(session=s, username="editor")
                approver = accounts.get_by_username(session=s, username="approver")
                n = 0
                while not stop.is_set():
                    n += 1
                    try:
                        v = service.create_draft(session=s, actor=editor, draft=service.Draft(
                            question=f"Load test question number {n}?", answer=f"Answer {n}.", lang="en"))
                        writes["saved"] += 1
                        service.submit(session=s, actor=editor, version_id=v.id)
                        service.approve(session=s, actor=approver, version_id=v.id)
                        writes["approved"] += 1
                    except Exception:  # noqa: BLE001 - counted and reported; a load test must not stop
                        s.rollback()
                        writes["errors"] += 1
                    time.sleep(0.5)

        editor_thread = threading.Thread(target=editing)
        editor_thread.start()
        threads = []
        started = time.monotonic()
        i = 0
        while time.monotonic() - started < args.seconds:
            t = threading.Thread(target=fire, args=(questions[i % len(questions)],))
            t.start()
            threads.append(t)
            i += 1
            time.sleep(max(0.0, started + i / args.rate - time.monotonic()))
        for t in threads:
            t.join()
        stop.set()
        editor_thread.join()
        elapsed = time.monotonic() - started
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    with storage.database(app).session() as s:
        from sqlalchemy import func, select

        stored = s.scalar(select(func.count()).select_from(EntryVersion).where(
            EntryVersion.question.like("Load test question number %")))
        approvals = s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "approve",
                                                                                AuditEvent.entry_id.is_not(None)))
    latencies = sorted(ms for status, ms in results if status == 200)
    report = {
        "date": dt.date.today().isoformat(), "workers": args.workers, "encoder": args.encoder,
        "target_rate": args.rate, "achieved_rate": round(len(results) / elapsed, 2), "seconds": round(elapsed, 1),
        "requests": len(results), "status_5xx": sum(1 for s, _ in results if 500 <= s < 599),
        "status_other": sum(1 for s, _ in results if s != 200 and s < 500),
        "client_timeouts": sum(1 for s, _ in results if s == 599),
        "p50_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(latencies[int(0.99 * (len(latencies) - 1))], 1),
        "drafts_saved": writes["saved"], "approved": writes["approved"], "write_errors": writes["errors"],
        "drafts_in_database": stored, "lost_or_duplicated_writes": abs(stored - writes["saved"]),
        "approvals_in_audit_log": approvals,
    }
    print(json.dumps(report))
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    (common.RESULTS / "load.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0 if report["status_5xx"] == 0 and report["lost_or_duplicated_writes"] == 0 else 1


def _ask(base: str, key: str, question: str) -> int:
    request = urllib.request.Request(f"{base}/api/v1/suggest", method="POST",
                                     data=json.dumps({"question": question}).encode(),
                                     headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code
    except OSError:
        return 599  # no answer within the client's 30 s


if __name__ == "__main__":
    sys.exit(main())
