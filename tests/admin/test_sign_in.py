"""Sign-in throttling: every attempt counted once under concurrency, per username and address, and nothing told."""
from __future__ import annotations

import http.client
import threading
import urllib.parse
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from kb import accounts, throttle
from kb.models import AuditEvent, LoginThrottle
from tests.conftest import PASSWORD, csrf_from


@pytest.fixture
def live(app) -> Iterator[tuple[str, int]]:
    """Serve the app on a real socket with a thread per request, as a threaded server in production would."""
    app.config["WTF_CSRF_ENABLED"] = False  # CSRF is tested elsewhere; here many clients post at once
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "127.0.0.1", server.server_port
    server.shutdown()
    thread.join()


def _post_login(where: tuple[str, int], username: str, password: str) -> int:
    conn = http.client.HTTPConnection(*where, timeout=60)
    body = urllib.parse.urlencode({"username": username, "password": password})
    conn.request("POST", "/login", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    status = conn.getresponse().status
    conn.close()
    return status


def _at_once(where: tuple[str, int], attempts: list[tuple[str, str]]) -> list[int]:
    """Fire every attempt at the same moment from its own thread; return the statuses in order."""
    statuses: list[int] = [0] * len(attempts)
    start = threading.Barrier(len(attempts))

    def attempt(i: int, username: str, password: str) -> None:
        start.wait()
        statuses[i] = _post_login(where, username, password)

    threads = [threading.Thread(target=attempt, args=(i, *a)) for i, a in enumerate(attempts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def _counter(session, username: str, address: str = "127.0.0.1") -> int:
    session.expire_all()
    row = session.scalar(select(LoginThrottle).where(LoginThrottle.username == username,
                                                     LoginThrottle.address == address))
    return row.attempts if row else 0


def test_simultaneous_wrong_passwords_are_each_counted_once_and_never_fail(live, session) -> None:
    statuses = _at_once(live, [("editor", f"wrong password {i}") for i in range(12)])
    assert statuses == [401] * 12  # never a 500
    assert _counter(session, "editor") == 12
    assert _counter(session, throttle.ANY_USER) == 12


def test_eleven_simultaneous_wrong_passwords_then_the_right_one_is_refused(live, session) -> None:
    assert _at_once(live, [("editor", f"wrong password {i}") for i in range(11)]) == [401] * 11
    assert _post_login(live, "editor", PASSWORD) == 401
    locks = session.scalars(select(AuditEvent).where(AuditEvent.action == "login_locked")).all()
    assert [(e.after["username"], e.after["address"]) for e in locks] == [("editor", "127.0.0.1")]


def test_the_right_password_among_simultaneous_guesses_never_fails_badly(live, session) -> None:
    attempts = [("editor", f"wrong password {i}") for i in range(11)] + [("editor", PASSWORD)]
    statuses = _at_once(live, attempts)
    assert set(statuses) <= {302, 401} and statuses[:11] == [401] * 11
    # The right password wins only as one of the first five attempts of the window: it then clears the count,
    # and the wrong guesses that land after it count again; every attempt is counted exactly once otherwise.
    if statuses[11] == 302:
        assert _counter(session, "editor") <= 11
    else:
        assert _counter(session, "editor") == 12


def _login_from(client, address: str, username: str, password: str):
    token = csrf_from(client.get("/login", environ_base={"REMOTE_ADDR": address}).get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


def test_a_pause_an_attacker_triggers_does_not_stop_the_owner_elsewhere(app, client, session) -> None:
    for i in range(5):
        assert _login_from(client, "203.0.113.9", "admin", f"guess number {i}").status_code == 401
    assert _login_from(client, "203.0.113.9", "admin", PASSWORD).status_code == 401
    assert _login_from(app.test_client(), "198.51.100.7", "admin", PASSWORD).status_code == 302
    lock = session.scalar(select(AuditEvent).where(AuditEvent.action == "login_locked"))
    assert lock.after["address"] == "203.0.113.9" and lock.after["username"] == "admin"


def test_one_address_guessing_many_usernames_is_paused(app, client) -> None:
    app.config["LOGIN_ADDRESS_MAX_FAILURES"] = 4
    for name in ("ann", "bob", "cy", "dee"):
        assert _login_from(client, "203.0.113.9", name, "a guessed password").status_code == 401
    assert _login_from(client, "203.0.113.9", "editor", PASSWORD).status_code == 401
    assert _login_from(app.test_client(), "198.51.100.7", "editor", PASSWORD).status_code == 302


def test_unknown_and_locked_users_answer_alike(app, client, monkeypatch) -> None:
    app.config["LOGIN_MAX_FAILURES"] = 2
    for _ in range(2):
        _login_from(client, "203.0.113.9", "editor", "wrong password!")
    hashes: list[str] = []
    real = accounts.check_password_hash

    def counting(pwhash: str, password: str) -> bool:
        hashes.append(pwhash)
        return real(pwhash, password)

    monkeypatch.setattr(accounts, "check_password_hash", counting)
    locked = _login_from(client, "203.0.113.9", "editor", PASSWORD)
    unknown = _login_from(client, "203.0.113.9", "nobody-here", PASSWORD)
    wrong = _login_from(client, "203.0.113.9", "approver", "wrong password!")
    assert locked.status_code == unknown.status_code == wrong.status_code == 401
    message = accounts.SIGN_IN_REFUSED
    assert all(message in r.get_data(as_text=True) for r in (locked, unknown, wrong))
    assert len(hashes) == 3  # one slow hash each: the time taken tells nothing either


def test_behind_a_trusted_proxy_the_forwarded_address_is_throttled(config) -> None:
    from app import create_app
    from kb import storage

    proxied = create_app({**config, "TRUSTED_PROXIES": 1, "WTF_CSRF_ENABLED": False})
    attacker, owner = proxied.test_client(), proxied.test_client()
    for i in range(5):
        assert attacker.post("/login", data={"username": "admin", "password": f"guess {i}"},
                             headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 401
    assert attacker.post("/login", data={"username": "admin", "password": PASSWORD},
                         headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 401
    assert owner.post("/login", data={"username": "admin", "password": PASSWORD},
                      headers={"X-Forwarded-For": "198.51.100.7"}).status_code == 302
    storage.database(proxied).engine.dispose()


def test_without_a_trusted_proxy_a_forged_forwarded_address_changes_nothing(app, client) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    for i in range(5):
        assert client.post("/login", data={"username": "admin", "password": f"guess {i}"},
                           headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code == 401
    assert client.post("/login", data={"username": "admin", "password": PASSWORD},
                       headers={"X-Forwarded-For": "192.0.2.77"}).status_code == 401


@pytest.mark.parametrize(("address", "key"), [
    ("2001:db8:1:2::1", "2001:db8:1:2::/64"), ("2001:db8:1:2:aaaa::9", "2001:db8:1:2::/64"),
    ("::ffff:203.0.113.9", "203.0.113.9"), ("203.0.113.9", "203.0.113.9"), ("", "unknown"),
])
def test_an_ipv6_client_is_throttled_by_its_network(address: str, key: str) -> None:
    assert throttle.client_key(address) == key


def test_a_pause_ends_after_its_time(app, client, session) -> None:
    for i in range(5):
        _login_from(client, "203.0.113.9", "editor", f"guess number {i}")
    assert _login_from(client, "203.0.113.9", "editor", PASSWORD).status_code == 401
    import datetime as dt

    for row in session.scalars(select(LoginThrottle)):
        row.reset_at -= dt.timedelta(minutes=16)
    session.commit()
    assert _login_from(client, "203.0.113.9", "editor", PASSWORD).status_code == 302
