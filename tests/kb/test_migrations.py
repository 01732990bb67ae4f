"""Migrations build the schema the models describe, from an empty database, and step back down."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlalchemy import text as text_sql

from kb import storage
from kb.models import Base, text_key


def test_upgrade_an_empty_database_to_head_and_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    storage.migrate(url)
    engine = create_engine(url)
    assert storage.is_migrated(engine)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    command.downgrade(storage.alembic_config(url), "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    engine.dispose()


def test_models_and_migrations_agree(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    storage.migrate(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_inquiries_asked_before_the_text_key_are_found_again_after_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    storage.create_private_sqlite_file(url)
    command.upgrade(storage.alembic_config(url), "0010")
    engine = create_engine(url)
    long_text = "הראוטר לא עובד " * 400  # longer than any index would hold as text
    with engine.begin() as conn:
        for text in ("I'm calling my lawyer", long_text, ""):
            conn.execute(text_sql("INSERT INTO inquiries (text, lang, channel, source, outcome, sent_to_pr, took_ms, "
                                  "asked_count, created_at) VALUES (:t, 'en', 'web', 'api', 'answer', 0, 0, 1, "
                                  "'2026-11-29 08:00:00')"), {"t": text})
    command.upgrade(storage.alembic_config(url), "head")
    with engine.connect() as conn:
        rows = conn.execute(text_sql("SELECT text, text_key FROM inquiries ORDER BY id")).all()
        plan = " ".join(str(r) for r in conn.execute(text_sql(
            "EXPLAIN QUERY PLAN SELECT id FROM inquiries WHERE api_key_id = 1 AND text_key = 'x' "
            "AND created_at >= '2026-11-29' ORDER BY id DESC LIMIT 1")))
    engine.dispose()
    assert [key for _, key in rows] == [text_key(t) for t, _ in rows]
    assert len({key for _, key in rows}) == 3 and all(len(key) == 16 for _, key in rows)
    # The repeat look-up reads one asker's rows with this message's key, not every text the asker sent.
    assert "ix_inquiries_api_key_repeat" in plan
