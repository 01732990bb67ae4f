"""Checking an API key costs one query: it runs on every API call."""
from __future__ import annotations


def test_an_api_key_is_checked_in_one_query(app, session, users) -> None:
    from sqlalchemy import event

    from kb import accounts, storage

    raw = accounts.create_api_key(session=session, user=users["agent"], scopes=["suggest"])[1]
    accounts.verify_api_key(session=session, raw=raw)  # records the first use
    session.expunge_all()
    statements: list[str] = []
    engine = storage.database(app).engine

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        key = accounts.verify_api_key(session=session, raw=raw)
        assert key is not None and key.username == users["agent"].username
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1
