"""How long an approval takes to reach every gunicorn worker while they are held at a share of their capacity.

Measures the workers' capacity first (closed loop), then holds them at `--load` of it (open loop) and approves
a new entry every few seconds; probes ask its question from many connections and record when the last worker
stopped missing it. Reports, per approval, the first and the last probe that still missed it after the commit.

    .venv/bin/python -m bench.propagation [--db sqlite|postgresql] [--workers 4] [--load 0.8] [--listen true]
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


def _ask(base: str, key: str, question: str, k: int = 3) -> tuple[int, list[int]]:
    request = urllib.request.Request(f"{base}/api/v1/suggest", method="POST",
                                     data=json.dumps({"question": question, "k": k}).encode(),
                                     headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json",
                                              "Connection": "close"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, [s["entry_id"] for s in json.loads(response.read())["suggestions"]]
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code, []
    except OSError:
        return 599, []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--encoder", default="auto")
    parser.add_argument("--load", type=float, default=0.8, help="share of the measured capacity to hold")
    parser.add_argument("--approvals", type=int, default=5)
    parser.add_argument("--listen", default="true", help="VETTED_INDEX_LISTEN for the workers")
    parser.add_argument("--model-cache", default=str(common.MODELS))
    args = parser.parse_args(argv)
    from app import create_app
    from kb import accounts, demo, owners, service, storage
    from kb import redflags as flags

    server = None
    tmp = Path(tempfile.mkdtemp(prefix="vetted-propagation-"))
    if args.db == "postgresql":
        from tests.postgres import Server

        server = Server().start()
        server.execute("CREATE DATABASE vetted_bench")
        url = server.url("vetted_bench")
    else:
        url = f"sqlite:///{tmp / 'bench.db'}"
    storage.migrate(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "ENCODER": "fake", "INSTANCE_PATH": str(tmp)})
    with storage.database(app).session() as s:
        owners.ensure_defaults(session=s)
        flags.ensure_default_rules(session=s)
        demo.load(session=s)
        agent = accounts.get_by_username(session=s, username="agent")
        key = accounts.create_api_key(session=s, user=agent, scopes=["suggest"])[1]
    env = {**os.environ, "VETTED_DATABASE_URL": url, "VETTED_ENCODER": args.encoder, "VETTED_SECRET_KEY": "bench",
           "VETTED_INSTANCE_PATH": str(tmp), "VETTED_MODEL_CACHE": args.model_cache, "VETTED_WARM_UP": "true",
           "VETTED_API_RATE_LIMIT": "1000000", "VETTED_NOTIFY_WORKER": "false", "VETTED_SUGGEST_CACHE_SIZE": "0",
           "VETTED_INDEX_LISTEN": args.listen}
    port = _port()
    log = (tmp / "gunicorn.log").open("w")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "-w",
                             str(args.workers), "-b", f"127.0.0.1:{port}", "wsgi:app"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    questions = [r["question"] for r in demo.demo_rows(dt.date.today())]
    report: dict = {"date": dt.date.today().isoformat(), "db": args.db, "workers": args.workers,
                    "encoder": args.encoder, "listen": args.listen, "load": args.load}
    try:
        deadline = time.monotonic() + 300
        while (tmp / "gunicorn.log").read_text().count(" is warm: ") < args.workers:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("gunicorn did not start: " + (tmp / "gunicorn.log").read_text()[-2000:])
            time.sleep(0.5)
        # Capacity: as many clients as there are worker threads, each asking as fast as it is answered.
        done, stop = [], threading.Event()

        def closed_loop(n: int) -> None:
            while not stop.is_set():
                _ask(base, key, questions[n % len(questions)])
                done.append(time.monotonic())
                n += 1

        clients = [threading.Thread(target=closed_loop, args=(n,)) for n in range(args.workers * 2)]
        for c in clients:
            c.start()
        time.sleep(3)
        measured_from = time.monotonic()
        time.sleep(10)
        capacity = sum(1 for t in done if t >= measured_from) / (time.monotonic() - measured_from)
        stop.set()
        for c in clients:
            c.join()
        rate = capacity * args.load
        report.update(capacity_rps=round(capacity, 2), held_rps=round(rate, 2))

        stop = threading.Event()
        probes: list[tuple[float, float, int, list[int]]] = []  # (sent, answered, approval number, ids)
        current = {"n": -1, "question": questions[0]}

        def background() -> None:
            i, started = 0, time.monotonic()
            while not stop.is_set():
                # Half the held rate is ordinary questions, half asks the newest approved question (the probes).
                probe = i % 2 == 1 and current["n"] >= 0
                question, n = (current["question"], current["n"]) if probe else (questions[i % len(questions)], -1)

                def fire(question: str = question, n: int = n, probe: bool = probe) -> None:
                    sent = time.monotonic()
                    status, ids = _ask(base, key, question, k=5)
                    if probe and status == 200:
                        probes.append((sent, time.monotonic(), n, ids))

                threading.Thread(target=fire, daemon=True).start()
                i += 1
                time.sleep(max(0.0, started + i / rate - time.monotonic()))

        load = threading.Thread(target=background)
        load.start()
        time.sleep(3)
        committed: list[tuple[float, int]] = []
        with storage.database(app).session() as s:
            editor = accounts.get_by_username(session=s, username="editor")
            approver = accounts.get_by_username(session=s, username="approver")
            for n in range(args.approvals):
                question = f"Can I bring my pet iguana number {n} to the branch office?"
                v = service.create_draft(session=s, actor=editor, draft=service.Draft(
                    question=question, answer=f"Yes, iguana {n} is welcome on a lead.", lang="en"))
                service.submit(session=s, actor=editor, version_id=v.id)
                service.approve(session=s, actor=approver, version_id=v.id)
                committed.append((time.monotonic(), v.entry_id))
                current.update(n=n, question=question)
                time.sleep(6)
        stop.set()
        load.join()
        time.sleep(2)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
        storage.database(app).engine.dispose()
        if server is not None:
            server.stop()
    last_miss, first_hit = [], []
    for n, (at, entry_id) in enumerate(committed):
        mine = [(sent - at, answered - at, entry_id in ids) for sent, answered, m, ids in probes if m == n]
        misses = [sent for sent, _, seen in mine if not seen]
        hits = [answered for _, answered, seen in mine if seen]
        last_miss.append(round(max(misses, default=0.0), 3))
        first_hit.append(round(min(hits, default=float("nan")), 3))
    report.update(probes=len(probes), last_miss_s=last_miss, first_hit_s=first_hit,
                  last_miss_s_median=round(statistics.median(last_miss), 3), last_miss_s_max=max(last_miss))
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
