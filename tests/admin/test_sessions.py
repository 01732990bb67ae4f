"""Console sessions live on the server: sign-out, password, role and access changes end them; they expire."""
from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import select

from kb import accounts
from kb.models import User, UserSession, utcnow
from tests.conftest import Auth


def _cookie(client) -> str:
    return client.get_cookie("session").value


def _signed_in(client, path: str = "/admin/entries") -> bool:
    response = client.get(path)
    assert response.status_code in (200, 302)
    return response.status_code == 200


def _shift(session, **delta: dt.timedelta) -> None:
    for row in session.scalars(select(UserSession)):
        for column, by in delta.items():
            setattr(row, column, getattr(row, column) - by)
    session.commit()


def test_a_cookie_replayed_after_sign_out_opens_nothing(client, auth) -> None:
    auth.login("admin")
    stolen = _cookie(client)
    assert _signed_in(client, "/admin/users")
    client.post("/logout", data={"csrf_token": auth.csrf()})
    client.set_cookie("session", stolen)
    response = client.get("/admin/users")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_cookie_carries_only_a_random_token_and_the_database_only_its_hash(app, client, auth, session) -> None:
    auth.login("admin")
    data = app.session_interface.get_signing_serializer(app).loads(_cookie(client))
    password_hash = session.scalar(select(User.password_hash).where(User.username == "admin"))
    assert set(data) <= {"sid", "csrf_token", "ui_lang", "_flashes", "_permanent"}
    secret = password_hash.rsplit("$", 1)[-1]
    assert not any(isinstance(v, str) and (v in secret or secret[-8:] in v) for v in data.values())
    stored = session.scalar(select(UserSession.token_hash))
    assert stored == hashlib.sha256(data["sid"].encode()).hexdigest() and data["sid"] not in stored


def test_the_cookie_lives_no_longer_than_a_session(app, client, auth) -> None:
    cookie = auth.login("agent").headers["Set-Cookie"]
    expires = dt.datetime.strptime(cookie.split("Expires=")[1].split(";")[0], "%a, %d %b %Y %H:%M:%S GMT")
    assert dt.timedelta(hours=11) < expires - utcnow() <= dt.timedelta(hours=12, minutes=1)


def test_an_idle_session_ends(app, client, auth, session) -> None:
    app.config["SESSION_IDLE_MINUTES"] = 30
    auth.login("editor")
    _shift(session, last_seen_at=dt.timedelta(minutes=29))
    assert _signed_in(client)  # used within the limit: and that use counts
    _shift(session, last_seen_at=dt.timedelta(minutes=29))
    assert _signed_in(client)
    _shift(session, last_seen_at=dt.timedelta(minutes=31))
    assert not _signed_in(client)


def test_a_session_ends_after_its_absolute_lifetime_however_busy(app, client, auth, session) -> None:
    auth.login("editor")
    _shift(session, created_at=dt.timedelta(hours=11, minutes=59))
    assert _signed_in(client)
    _shift(session, created_at=dt.timedelta(minutes=2))
    assert not _signed_in(client)


@pytest.mark.parametrize("change", ["password", "role", "deactivate"])
def test_password_role_and_access_changes_end_every_session(app, session, users, change: str) -> None:
    laptop, phone = app.test_client(), app.test_client()
    Auth(laptop).login("editor")
    Auth(phone).login("editor")
    assert _signed_in(laptop) and _signed_in(phone)
    editor, admin = users["editor"], users["admin"]
    if change == "password":
        accounts.set_password(session=session, user_id=editor.id, password="a brand new password", actor=admin)
    elif change == "role":
        accounts.set_role(session=session, user_id=editor.id, role="agent", active=True, actor=admin)
    else:
        accounts.set_role(session=session, user_id=editor.id, role="editor", active=False, actor=admin)
    assert not _signed_in(laptop) and not _signed_in(phone)
    if change != "deactivate":
        new = "a brand new password" if change == "password" else None
        Auth(laptop).login("editor", *([new] if new else []))
        assert _signed_in(laptop, "/search")


def test_an_unchanged_user_form_keeps_sessions(app, session, users) -> None:
    laptop = app.test_client()
    Auth(laptop).login("editor")
    accounts.set_role(session=session, user_id=users["editor"].id, role="editor", active=True, actor=users["admin"])
    assert _signed_in(laptop)


def test_users_password_command_ends_sessions(app, runner, session) -> None:
    laptop = app.test_client()
    Auth(laptop).login("editor")
    result = runner.invoke(args=["users", "password", "editor", "--password-stdin"], input="another long password\n")
    assert result.exit_code == 0, result.output
    assert not _signed_in(laptop)
    short = runner.invoke(args=["users", "password", "editor", "--password-stdin"], input="short\n")
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    assert Auth(laptop).login("editor", "another long password").status_code == 302
    assert session.scalar(select(UserSession.id).where(UserSession.ended_at.is_(None))) is not None



def test_a_backup_carries_contributors_but_no_session(app, client, auth, session, users, tmp_path) -> None:
    import gzip
    import json

    from kb import backup, service, storage
    from tests.factories import make_draft

    service.create_draft(session=session, actor=users["editor"], draft=make_draft())
    auth.login("editor")
    backup.backup(storage.database(app).engine, tmp_path / "b.json.gz")
    tables = json.loads(gzip.decompress((tmp_path / "b.json.gz").read_bytes()))["tables"]
    assert "user_sessions" not in tables and "login_throttles" not in tables
    assert tables["version_contributors"] == [{"version_id": 1, "user_id": users["editor"].id}]
