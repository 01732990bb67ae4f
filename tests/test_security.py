"""Defensive headers, cookie flags, and an audit log nothing can rewrite."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("path", ["/login", "/api/v1/openapi.json", "/healthz"])
def test_every_response_carries_the_security_headers(client, path: str) -> None:
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"


def test_session_cookie_is_secure_behind_tls(app, client, auth) -> None:
    app.config["SESSION_COOKIE_SECURE"] = True
    cookie = auth.login("agent").headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_nothing_updates_or_deletes_audit_events() -> None:
    """Scan the code: audit events are only ever added."""
    offenders = []
    for path in ROOT.glob("*/*.py"):
        if path.parts[-2] in ("tests", ".venv", "migrations", "bench"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in (
                    "update", "delete") and any(isinstance(a, ast.Name) and a.id == "AuditEvent" for a in node.args):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


def test_no_route_offers_put_or_delete(app) -> None:
    assert not [r.rule for r in app.url_map.iter_rules() if r.methods & {"PUT", "DELETE", "PATCH"}]


def test_database_backup_and_instance_folder_are_private(tmp_path, monkeypatch) -> None:
    import os
    import stat

    from app import create_app
    from kb import backup, storage

    old = os.umask(0o022)  # the usual umask, under which files come out world-readable
    try:
        monkeypatch.chdir(tmp_path)
        instance = tmp_path / "fresh" / "instance"
        app = create_app({"INSTANCE_PATH": str(instance), "TESTING": True, "ENCODER": "fake"})
        storage.migrate(app.config["DATABASE_URL"])
        with app.app_context():
            storage.session().execute(__import__("sqlalchemy").text("select 1"))
        backup.backup(storage.database(app).engine, tmp_path / "backup.json.gz")
        storage.database(app).engine.dispose()
    finally:
        os.umask(old)
    assert stat.S_IMODE(instance.stat().st_mode) == 0o700
    assert stat.S_IMODE((instance / "vetted.db").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "backup.json.gz").stat().st_mode) == 0o600


def test_the_extension_takes_its_server_address_from_the_setting_not_the_host_header(app, client) -> None:
    import io
    import zipfile

    def config_js(response) -> str:
        assert response.status_code == 200, response.status_code
        with zipfile.ZipFile(io.BytesIO(response.data)) as zf:
            return zf.read("vetted-extension/config.js").decode()

    from tests.conftest import PASSWORD, csrf_from

    evil = {"base_url": "http://evil.example"}  # the attacker's Host header, as a proxy passing it on delivers it
    page = client.get("/login", **evil)
    client.post("/login", data={"username": "agent", "password": PASSWORD, "csrf_token": csrf_from(page.text)}, **evil)
    app.config.update(TESTING=False, DEBUG=False)
    app.testing = False
    refused = client.get("/extension.zip", **evil)
    assert refused.status_code == 503 and "VETTED_PUBLIC_URL" in refused.get_data(as_text=True)
    app.config["PUBLIC_URL"] = "https://vetted.galim.example/"
    served = config_js(client.get("/extension.zip", **evil))
    assert '"https://vetted.galim.example"' in served and "evil.example" not in served
    app.config["PUBLIC_URL"] = ""
    app.testing = True  # in development the request's own address is the only one there is
    assert '"http://evil.example"' in config_js(client.get("/extension.zip", **evil))


def test_a_public_url_that_is_not_an_address_stops_start_up(config) -> None:
    from app import create_app

    with pytest.raises(SystemExit, match="VETTED_PUBLIC_URL"):
        create_app({**config, "PUBLIC_URL": "vetted.example"})
