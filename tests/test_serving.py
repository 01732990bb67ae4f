"""The production commands work as the README gives them: `flask` from the repository root without FLASK_APP,
gunicorn starting many workers at once on a fresh install, and an API key's rate limit across workers."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from kb import accounts, service
from suggest.matching import bf16
from tests.factories import make_draft

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _environment(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VETTED_", "FLASK_"))}
    env.update({"HF_HUB_OFFLINE": "1", **{f"VETTED_{k}": v for k, v in settings.items()}})
    return env


@contextmanager
def gunicorn(workers: int, log: Path, ready_lines: int = 0, boot_s: float = 60,
             **settings: str) -> Iterator[str]:
    """Run gunicorn as the README does; yield its address once it answers (and `ready_lines` workers are warm)."""
    port = _port()
    env = _environment(NOTIFY_WORKER="false", **settings)
    with log.open("w") as errors:
        proc = subprocess.Popen([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "-w", str(workers),
                                 "-b", f"127.0.0.1:{port}", "wsgi:app"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=errors)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + boot_s
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"gunicorn exited with {proc.returncode}: " + log.read_text()[-3000:])
                if time.monotonic() > deadline:
                    pytest.fail("gunicorn did not start in time: " + log.read_text()[-3000:])
                warm = log.read_text().count(" is warm: ")
                try:
                    urllib.request.urlopen(f"{base}/healthz", timeout=2).read()
                    if warm >= ready_lines:
                        break
                except OSError:
                    pass
                time.sleep(0.3)
            yield base
            assert proc.poll() is None, "gunicorn stopped while serving: " + log.read_text()[-3000:]
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def _suggest(base: str, key: str, question: str) -> tuple[int, dict]:
    request = urllib.request.Request(f"{base}/api/v1/suggest", method="POST",
                                     data=json.dumps({"question": question}).encode(),
                                     headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json",
                                              "Connection": "close"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_flask_runs_from_the_repository_root_without_flask_app(tmp_path: Path) -> None:
    env = _environment(INSTANCE_PATH=str(tmp_path / "instance"), ENCODER="fake")
    env["VETTED_DATABASE_URL"] = f"sqlite:///{tmp_path / 'fresh.db'}"
    init = subprocess.run([str(BIN / "flask"), "kb", "init"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert init.returncode == 0, init.stderr[-2000:]
    assert "newest schema" in init.stdout
    listed = subprocess.run([str(BIN / "flask"), "users", "--help"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr[-2000:]


def test_an_unknown_encoder_backend_stops_the_command_with_one_line(tmp_path: Path) -> None:
    env = _environment(INSTANCE_PATH=str(tmp_path / "instance"), ENCODER_BACKEND="cuda")
    env["VETTED_DATABASE_URL"] = f"sqlite:///{tmp_path / 'fresh.db'}"
    run = subprocess.run([str(BIN / "flask"), "kb", "init"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode != 0
    assert "bad suggest settings: ENCODER_BACKEND must be one of auto, onnx, bf16, torch" in run.stderr
    assert "Traceback" not in run.stderr


def test_gunicorn_still_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    env = _environment(INSTANCE_PATH=str(tmp_path / "instance"), ENCODER="fake", NOTIFY_WORKER="false")
    env["VETTED_DATABASE_URL"] = f"sqlite:///{tmp_path / 'empty.db'}"
    run = subprocess.run([str(BIN / "gunicorn"), "-w", "1", "-b", f"127.0.0.1:{_port()}", "wsgi:app"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode != 0
    assert "run `flask kb init` first" in run.stderr


@pytest.mark.slow
@pytest.mark.same_on_any_database  # the race is for the model cache's file
@pytest.mark.parametrize("backend", ["onnx", pytest.param("auto", marks=pytest.mark.skipif(
    not bf16.hardware_bf16(), reason="auto is onnx without AMX"))])
def test_four_workers_start_together_on_an_empty_model_cache(config, session, users, tmp_path: Path,
                                                             backend: str) -> None:
    v = service.create_draft(session=session, actor=users["editor"], draft=make_draft())
    service.submit(session=session, actor=users["editor"], version_id=v.id)
    approved = service.approve(session=session, actor=users["approver"], version_id=v.id)
    key = accounts.create_api_key(session=session, user=users["agent"], scopes=["suggest"])[1]
    cache = tmp_path / "models"
    cache.mkdir()
    settings = {"DATABASE_URL": config["DATABASE_URL"], "INSTANCE_PATH": str(tmp_path / "instance"),
                "MODEL_CACHE": str(cache), "WARM_UP": "true", "SECRET_KEY": "serving-test",
                "ENCODER_BACKEND": backend}
    with gunicorn(4, tmp_path / "gunicorn.log", ready_lines=4, boot_s=400, **settings) as base:
        health = json.loads(urllib.request.urlopen(f"{base}/healthz", timeout=10).read())
        assert health["status"] == "ok" and health["index_warm"] is True
        status, body = _suggest(base, key, "How can I restart my router?")
        assert status == 200 and body["suggestions"][0]["entry_id"] == approved.entry_id
    # Through onnx each model is exported once, by one of the four, and nothing half-written is left behind; in
    # bf16 (auto, on AMX) the weights are read from the packages and nothing is written at all.
    e5 = "multilingual-e5-small-original-q4.onnx"
    exported = ["all-MiniLM-L6-v2.onnx", "all-MiniLM-L6-v2.onnx.lock", e5, f"{e5}.lock"]
    assert sorted(p.name for p in cache.iterdir()) == (exported if backend == "onnx" else [])
    log = (tmp_path / "gunicorn.log").read_text()
    assert "Traceback" not in log and "exited with code" not in log


@pytest.mark.slow
def test_the_rate_limit_holds_across_gunicorn_workers(config, session, users, tmp_path: Path) -> None:
    key = accounts.create_api_key(session=session, user=users["agent"], scopes=["suggest"])[1]
    settings = {"DATABASE_URL": config["DATABASE_URL"], "INSTANCE_PATH": str(tmp_path / "instance"),
                "ENCODER": "fake", "API_RATE_LIMIT": "5", "SECRET_KEY": "serving-test"}
    with gunicorn(2, tmp_path / "gunicorn.log", **settings) as base:
        minute = time.time() // 60
        statuses = [_suggest(base, key, "How can I restart my router?")[0] for _ in range(12)]
        crossed = time.time() // 60 != minute  # a new minute brings a new allowance
    assert (5 <= statuses.count(200) <= 10) if crossed else statuses.count(200) == 5, statuses
    assert set(statuses) == {200, 429}
