"""An API key's rate limit holds across every worker: the count lives in the database, not in a process."""
from __future__ import annotations

from sqlalchemy import select

from app import create_app
from kb import accounts, rate_limits, storage
from kb.models import ApiRateWindow

URL = "/api/v1/keys/current"


def test_two_workers_share_one_limit_per_key(app, config, session, users, monkeypatch) -> None:
    # The count is per clock minute: the ten calls are held inside one, or a minute ending between them starts a
    # new count and lets a sixth through.
    monkeypatch.setattr(rate_limits.time, "time", lambda: 60 * 29_000_000 + 30.0)
    other_worker = create_app(config)  # a second app on the same database, as a second gunicorn worker is
    try:
        clients = [app.test_client(), other_worker.test_client()]
        for a in (app, other_worker):
            a.config["API_RATE_LIMIT"] = 5
        raw = accounts.create_api_key(session=session, user=users["agent"], scopes=["suggest"])[1]
        headers = {"Authorization": f"Bearer {raw}"}
        statuses = [clients[n % 2].get(URL, headers=headers).status_code for n in range(10)]
        assert statuses.count(200) == 5 and statuses.count(429) == 5, statuses
        other = accounts.create_api_key(session=session, user=users["agent"], scopes=["suggest"])[1]
        assert clients[1].get(URL, headers={"Authorization": f"Bearer {other}"}).status_code == 200
    finally:
        storage.database(other_worker).engine.dispose()


def test_a_new_minute_starts_a_new_count_and_forgets_the_old(session, users) -> None:
    key = accounts.create_api_key(session=session, user=users["agent"], scopes=["suggest"])[0]
    start = 60 * 29_000_000 + 50.0  # ten seconds before a minute ends
    assert [rate_limits.hit(session=session, key_id=key.id, per_minute=3, now=start) for _ in range(3)] == [None] * 3
    wait = rate_limits.hit(session=session, key_id=key.id, per_minute=3, now=start + 1)
    assert wait == 9.0  # until the minute ends
    assert rate_limits.hit(session=session, key_id=key.id, per_minute=3, now=start + 10) is None
    minutes = session.scalars(select(ApiRateWindow.minute).where(ApiRateWindow.key_id == key.id)).all()
    assert minutes == [int(start // 60) + 1]
