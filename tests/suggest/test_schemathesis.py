"""An outside fuzzer against the running API: Schemathesis, every check and phase, a real key of each scope."""
from __future__ import annotations

import subprocess
import sys
import threading

import pytest
from werkzeug.serving import make_server

from kb import accounts, service
from tests.factories import make_draft

pytestmark = pytest.mark.slow


@pytest.fixture
def served(app, session, users):
    """The app on a loopback port, with an approved entry to find, and no rate limit in the fuzzer's way."""
    app.config["API_RATE_LIMIT"] = 10**9
    v = service.create_draft(session=session, actor=users["editor"], draft=make_draft())
    service.submit(session=session, actor=users["editor"], version_id=v.id)
    service.approve(session=session, actor=users["approver"], version_id=v.id)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def _run(url: str, key: str, phases: str, examples: int, tmp_path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "schemathesis.cli", "run", f"{url}/api/v1/openapi.json", "--checks", "all",
               "--phases", phases, "--header", f"Authorization: Bearer {key}", "--max-examples", str(examples),
               "--seed", "20261128", "--generation-database", "none", "--workers", "2", "--no-color",
               "--request-timeout", "10", "--report-dir", str(tmp_path)]
    return subprocess.run(command, capture_output=True, text=True, timeout=240, check=False)


def test_schemathesis_finds_nothing(served, session, users, tmp_path) -> None:
    every = accounts.create_api_key(session=session, user=users["agent"], scopes=list(accounts.SCOPES))[1]
    result = _run(served, every, "examples,coverage,fuzzing,stateful", 8, tmp_path)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    for scope in accounts.SCOPES:  # with one scope, the other operations answer a documented 403
        key = accounts.create_api_key(session=session, user=users["agent"], scopes=[scope])[1]
        result = _run(served, key, "fuzzing", 4, tmp_path)
        assert result.returncode == 0, (scope, result.stdout[-6000:] + result.stderr[-2000:])
