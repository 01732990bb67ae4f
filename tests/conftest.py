"""Shared fixtures: an app on a fresh migrated SQLite file per test, users of every role, and sign-in."""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from kb import accounts, owners, redflags, storage
from kb.models import User

PASSWORD = "correct horse battery"
ROLES = ("agent", "editor", "approver", "admin")


ON_POSTGRES = os.environ.get("VETTED_TEST_DB") == "postgresql"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The PostgreSQL pass skips tests that touch no database, or whose outcome no database changes: the SQLite pass
    has run them."""
    if not ON_POSTGRES:
        return
    skip = pytest.mark.skip(reason="touches no database; run in the SQLite pass")
    same = pytest.mark.skip(reason="the same on any database; run in the SQLite pass")
    for item in items:
        if item.get_closest_marker("no_database"):
            item.add_marker(skip)
        elif item.get_closest_marker("same_on_any_database"):
            item.add_marker(same)


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server for this test run, when the suite runs against PostgreSQL."""
    if not ON_POSTGRES:
        yield None
        return
    from tests.postgres import Server

    server = Server().start()
    yield server
    server.stop()


def _seed(url: str) -> None:
    storage.migrate(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "t", "ENCODER": "fake"})
    with app.app_context():
        s = storage.session()
        owners.ensure_defaults(session=s)
        redflags.ensure_default_rules(session=s)
        for role in ROLES:
            accounts.create_user(session=s, username=role, password=PASSWORD, role=role, display_name=role.title())
        accounts.create_user(session=s, username="approver2", password=PASSWORD, role="approver",
                             display_name="Second Approver")
        accounts.create_user(session=s, username="editor2", password=PASSWORD, role="editor",
                             display_name="Second Editor")
    storage.database(app).engine.dispose()


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory, postgres) -> str:
    """Migrate one database with defaults once; each test gets a copy (a file, or a PostgreSQL template)."""
    if postgres is not None:
        postgres.execute("CREATE DATABASE vetted_template")
        _seed(postgres.url("vetted_template"))
        return "vetted_template"
    path = tmp_path_factory.mktemp("template") / "vetted.db"
    _seed(f"sqlite:///{path}")
    return str(path)


_counter = iter(range(1, 1_000_000))


@pytest.fixture
def database_url(template_db: str, tmp_path: Path, postgres):
    if postgres is not None:
        name = f"vetted_test_{next(_counter)}"
        postgres.execute(f"CREATE DATABASE {name} TEMPLATE {template_db}")
        yield postgres.url(name)
        postgres.execute(f"DROP DATABASE {name} WITH (FORCE)")
        return
    path = tmp_path / "vetted.db"
    shutil.copy(template_db, path)
    yield f"sqlite:///{path}"


@pytest.fixture
def config(database_url: str, tmp_path: Path) -> dict:
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "ENCODER": "fake",
        "LANG_ENCODERS": "",
        "SUGGEST_CACHE_SIZE": 64,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        # Test receivers listen on loopback over plain http; tests of the address checks turn these off.
        "NOTIFY_ALLOW_HTTP": True,
        "NOTIFY_ALLOW_PRIVATE": True,
    }


@pytest.fixture
def app(config: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    monkeypatch.chdir(tmp_path)
    app = create_app(config)
    yield app
    storage.database(app).engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def session(app: Flask):
    """A session of the test's own, apart from the ones requests open (as another worker would be)."""
    s = storage.database(app).sessions()
    yield s
    s.close()


@pytest.fixture
def users(session) -> dict[str, User]:
    return {u.username: u for u in accounts.list_users(session=session)}


class Auth:
    """Sign in and out through the real login form."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, username: str = "editor", password: str = PASSWORD):
        page = self.client.get("/login")
        token = csrf_from(page.get_data(as_text=True))
        return self.client.post("/login", data={"username": username, "password": password, "csrf_token": token})

    def csrf(self, path: str = "/search") -> str:
        return csrf_from(self.client.get(path).get_data(as_text=True))


def csrf_from(html: str) -> str:
    """Pull the CSRF token out of a rendered page."""
    marker = 'name="csrf-token" content="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


@pytest.fixture
def auth(client: FlaskClient) -> Auth:
    return Auth(client)


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for name in list(os.environ):
        if name.startswith("VETTED_"):
            monkeypatch.delenv(name)
