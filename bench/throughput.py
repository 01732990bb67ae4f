"""Throughput of the suggest API under gunicorn on loopback, driven closed-loop from a separate client process.

    .venv/bin/python -m bench.throughput [--workers 2] [--threads 2] [--connections 8] [--seconds 20]
                                         [--max-requests 3000] [--phases en,he,repeat,health] [--batch-window-ms 2]

The server holds English entries (CLINC150's FAQ) and Hebrew ones (he_service_dev's FAQ) with the default
red-flag rules and the real encoders (MiniLM + e5 for English, e5 for Hebrew). Phases: `en` asks distinct
CLINC150 test questions, `he` distinct Hebrew questions (he_service_dev, HeQ, ParaShoot), each asked once so no
answer comes from a cache; `repeat` asks 32 questions over and over (each first asked a few times so every
worker has it); `health` asks the health check (one database read, no key, no model): the floor under any API
call. With `--app bench.floor_app:app`, gunicorn serves a Flask app that answers a constant instead (the floor
of gunicorn and Flask themselves; only its `health` phase means anything). Each phase runs until --seconds or
--max-requests, whichever first. Every suggestion is a full API call: key check, red flags, matching, the inquiry
written to the database. Prints one JSON line per phase and writes bench/results/throughput.json.
"""
from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench import common

ROOT = common.ROOT
REPEATED = 32


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _questions(name: str, path: str) -> list[str]:
    return [q.query for q in common.read_queries(common.DATA / name / path)]


def question_sets(seed: int = 11) -> dict[str, list[str]]:
    """Return distinct English and Hebrew questions, shuffled."""
    rng = random.Random(seed)
    en = list(dict.fromkeys(_questions("clinc150", "queries.jsonl")))
    he = list(dict.fromkeys(_questions("he_service_dev", "queries.jsonl") + _questions("heq", "queries.jsonl")
                            + _questions("parashoot", "queries.jsonl")))
    rng.shuffle(en)
    rng.shuffle(he)
    return {"en": en, "he": he}


def faq_rows() -> list[dict[str, Any]]:
    """Return the knowledge base: CLINC150's English FAQ and he_service_dev's Hebrew one."""
    rows = common.read_jsonl(common.DATA / "clinc150" / "faq.jsonl")
    rows += common.read_jsonl(common.DATA / "he_service_dev" / "faq.jsonl")
    return rows


def prepare(folder: Path, encoder: str) -> tuple[str, str]:
    """Create the database with the KB approved and its embeddings cached; return its URL and an API key."""
    from app import create_app
    from kb import accounts, io, owners, redflags, storage
    from kb.workflow import Status
    from suggest import engine as engine_mod
    from suggest.evaluation import _faq_row

    url = f"sqlite:///{folder / 'throughput.db'}"
    storage.migrate(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "throughput", "ENCODER": encoder,
                      "INSTANCE_PATH": str(folder), "MODEL_CACHE": str(common.MODELS), "WARM_UP": False})
    with storage.database(app).session() as s:
        owners.ensure_defaults(session=s)
        redflags.ensure_default_rules(session=s)
        approver = accounts.create_user(session=s, username="bench-approver", password="bench-approver-pw",
                                        role="approver")
        agent = accounts.create_user(session=s, username="bench-agent", password="bench-agent-pw", role="agent")
        io.import_rows(session=s, rows=[_faq_row(r, n) for n, r in enumerate(faq_rows(), 1)], actor=approver,
                       target=Status.APPROVED, allow_self_approval=True, via="benchmark")
        key = accounts.create_api_key(session=s, user=agent, scopes=["suggest"])[1]
        # Workers then read every entry's vectors from the embedding cache instead of encoding them each.
        engine_mod.engine(app).sync(s)
    storage.database(app).engine.dispose()
    return url, key


def prepared_copy(folder: Path, encoder: str) -> tuple[str, str]:
    """Copy the prepared database into `folder`; return its URL and an API key. Preparing encodes every entry once
    (minutes on two cores); the result is kept for later runs, per encoder and schema."""
    schema = hashlib.sha256("".join(sorted(p.name for p in (ROOT / "migrations" / "versions").glob("*.py")))
                            .encode()).hexdigest()[:8]
    prepared = Path(tempfile.gettempdir()) / f"vetted-throughput-{encoder}-{schema}"
    if not (prepared / "key").is_file():
        shutil.rmtree(prepared, ignore_errors=True)
        prepared.mkdir()
        _, key = prepare(prepared, encoder)
        (prepared / "key").write_text(key)
    shutil.copy(prepared / "throughput.db", folder / "throughput.db")
    return f"sqlite:///{folder / 'throughput.db'}", (prepared / "key").read_text()


def start_server(folder: Path, url: str, port: int, args: argparse.Namespace) -> subprocess.Popen:
    """Start gunicorn with the real encoders on loopback."""
    env = {**os.environ, "VETTED_DATABASE_URL": url, "VETTED_ENCODER": args.encoder, "VETTED_SECRET_KEY": "tp",
           "VETTED_INSTANCE_PATH": str(folder), "VETTED_MODEL_CACHE": str(common.MODELS), "VETTED_WARM_UP": "true",
           "VETTED_API_RATE_LIMIT": "100000000", "VETTED_NOTIFY_WORKER": "false", "HF_HUB_OFFLINE": "1",
           "VETTED_BIND": f"127.0.0.1:{port}"}
    for name, value in (("VETTED_WORKERS", args.workers), ("VETTED_THREADS", args.threads),
                        ("VETTED_BATCH_WINDOW_MS", args.batch_window_ms)):
        if value is not None:
            env[name] = str(value)
    for item in args.set:
        name, _, value = item.partition("=")
        env[f"VETTED_{name}"] = value
    log = (folder / "gunicorn.log").open("w")
    return subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", args.app],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)


def wait_ready(port: int, seconds: float = 180) -> None:
    """Wait until the server answers its health check."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("gunicorn did not start")
        time.sleep(0.3)


def server_cpu_s(master: int) -> float:
    """Return the CPU seconds (user + system) used so far by gunicorn's master and its workers."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == master or int(fields[1]) == master:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


# ----- the client (a separate process)
def drive(port: int, key: str, questions: list[str], connections: int, seconds: float, max_requests: int,
          lang: str | None, health: bool = False) -> dict[str, Any]:
    """Ask questions closed-loop over `connections` keep-alive connections; return counts and latencies. With
    `health`, ask the health check instead (one database read, no key): what the server costs around any work."""
    lock = threading.Lock()
    state = {"next": 0}
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    deadline = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def take() -> str | None:
        with lock:
            n = state["next"]
            if n >= max_requests or time.monotonic() >= deadline:
                return None
            state["next"] = n + 1
        return questions[n % len(questions)]

    def loop() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while (question := take()) is not None:
            body = {"question": question, "lang": lang} if lang else {"question": question}
            started = time.perf_counter()
            try:
                if health:
                    conn.request("GET", "/healthz")
                else:
                    conn.request("POST", "/api/v1/suggest", body=json.dumps(body), headers=headers)
                response = conn.getresponse()
                response.read()
                status = str(response.status)
            except (OSError, http.client.HTTPException) as exc:
                status = type(exc).__name__
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                if status == "200":
                    latencies.append(elapsed)
        conn.close()

    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.monotonic()
    threads = [threading.Thread(target=loop) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    client_cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    ordered = sorted(latencies)
    total = sum(statuses.values())
    p50 = statistics.median(ordered) if ordered else None
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))] if ordered else None
    return {
        "requests": total, "seconds": round(elapsed, 2), "per_s": round(len(ordered) / elapsed, 1),
        "p50_ms": round(p50, 1) if p50 else None, "p99_ms": round(p99, 1) if p99 else None,
        "p99_over_p50": round(p99 / p50, 2) if p50 else None,
        "errors": total - statuses.get("200", 0), "statuses": statuses,
        "client_cpu_s": round(client_cpu, 1),
    }


def _client() -> int:
    spec = json.loads(sys.stdin.read())
    print(json.dumps(drive(**spec)), flush=True)
    return 0


def run_client(**spec: Any) -> dict[str, Any]:
    """Run `drive` in a separate process, so the client's Python does not share the server's interpreter."""
    out = subprocess.run([sys.executable, "-m", "bench.throughput", "--client"], cwd=ROOT, input=json.dumps(spec),
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--client"]:
        return _client()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (default: gunicorn.conf.py)")
    parser.add_argument("--threads", type=int, default=None, help="threads per worker (default: gunicorn.conf.py)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--max-requests", type=int, default=3000)
    parser.add_argument("--phases", default="en,he,repeat")
    parser.add_argument("--batch-window-ms", type=int, default=None)
    parser.add_argument("--encoder", default="auto")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a VETTED_ setting for the server, e.g. --set LANG_ENCODERS=en=minilm")
    parser.add_argument("--app", default="wsgi:app",
                        help="the WSGI app to serve (bench.floor_app:app: a constant answer, the stack's floor)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (database, gunicorn log)")
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="vetted-throughput-"))
    url, key = prepared_copy(folder, args.encoder)
    port = _port()
    server = start_server(folder, url, port, args)
    sets = question_sets()
    reports = []
    try:
        wait_ready(port)
        # Each worker warms its models at start; a few questions per connection warm allocators and caches.
        run_client(port=port, key=key, questions=sets["en"][-40:] + sets["he"][-40:], connections=args.connections,
                   seconds=60, max_requests=80, lang=None)
        load_before = os.getloadavg()[0]
        for phase in args.phases.split(","):
            if phase in ("en", "he"):
                questions = sets[phase][:-40]
                spec = {"questions": questions, "max_requests": min(args.max_requests, len(questions)), "lang": None}
            elif phase == "repeat":
                questions = sets["en"][:REPEATED // 2] + sets["he"][:REPEATED // 2]
                # Every worker answers each question once before the clock starts.
                run_client(port=port, key=key, questions=questions, connections=args.connections, seconds=60,
                           max_requests=len(questions) * 2 * (args.workers or 2), lang=None)
                spec = {"questions": questions, "max_requests": args.max_requests * 10, "lang": None}
            elif phase == "health":
                spec = {"questions": ["-"], "max_requests": args.max_requests * 10, "lang": None, "health": True}
            else:
                raise SystemExit(f"unknown phase {phase!r}")
            cpu_before = server_cpu_s(server.pid)
            result = run_client(port=port, key=key, connections=args.connections, seconds=args.seconds, **spec)
            served = result["requests"] - result["errors"]
            # CPU per suggestion does not depend on what else shares the machine; wall-clock rates do.
            cpu_ms = (server_cpu_s(server.pid) - cpu_before) * 1000 / max(served, 1)
            result["server_cpu_ms_per_request"] = round(cpu_ms, 2)
            result["client_cpu_ms_per_request"] = round(result["client_cpu_s"] * 1000 / max(served, 1), 2)
            result["capacity_per_s_on_cores"] = round(
                (os.cpu_count() or 1) * 1000 / (cpu_ms + result["client_cpu_ms_per_request"]), 1)
            report = {"phase": phase, "workers": args.workers or "conf", "threads": args.threads or "conf",
                      "settings": args.set,
                      "connections": args.connections, "batch_window_ms": args.batch_window_ms, **result,
                      "cores": os.cpu_count(), "load_avg_1m_before": round(load_before, 2),
                      "load_avg_1m_after": round(os.getloadavg()[0], 2)}
            reports.append(report)
            print(json.dumps(report), flush=True)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    (common.RESULTS / "throughput.json").write_text(json.dumps({"date": time.strftime("%Y-%m-%d"),
                                                                "results": reports}, indent=2) + "\n")
    return 0 if all(r["errors"] == 0 for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
