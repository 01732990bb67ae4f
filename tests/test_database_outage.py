"""When the database is unreachable the API answers 503 with a clear error, and recovers when it returns."""
from __future__ import annotations

import pytest

from app import create_app
from kb import storage

pytestmark = pytest.mark.slow


def test_api_answers_503_then_recovers(tmp_path) -> None:
    from tests.postgres import Server, _free_port

    port = _free_port()
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "t", "ENCODER": "fake", "TESTING": True,
                      "INSTANCE_PATH": str(tmp_path / "instance")})
    app.extensions["vetted.schema_ok"] = True  # it was migrated before the outage
    client = app.test_client()
    down = client.post("/api/v1/suggest", json={"question": "hi"}, headers={"Authorization": "Bearer vt_x_y"})
    assert down.status_code == 503 and down.headers["Retry-After"] == "5"
    assert down.get_json()["error"] == {"code": "database_unavailable",
                                        "message": "the database is not reachable right now; try again shortly"}
    assert client.get("/healthz").status_code == 503
    signing_in = client.post("/login", data={"username": "a", "password": "b"})
    assert signing_in.status_code in (400, 503)  # never a stack trace

    server = Server()
    server.port = port
    server.start()
    try:
        storage.migrate(url)
        assert client.get("/healthz").status_code == 200
        again = client.post("/api/v1/suggest", json={"question": "hi"}, headers={"Authorization": "Bearer vt_x_y"})
        assert again.status_code == 401  # the database answers again: now the key is checked
    finally:
        storage.database(app).engine.dispose()
        server.stop()
