"""Backup and restore round-trip the whole knowledge base, audit log included, all or nothing."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

from sqlalchemy import func, select

from kb import storage, suggestable
from kb.models import AuditEvent
from tests.factories import approved_entry


def _fresh(tmp_path: Path, name: str):
    from app import create_app

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / name}", "SECRET_KEY": "t", "ENCODER": "fake",
                      "INSTANCE_PATH": str(tmp_path / "instance")})
    storage.migrate(app.config["DATABASE_URL"])
    return app


def test_backup_restore_backup_is_identical(app, runner, session, users, tmp_path: Path) -> None:
    approved_entry(session, users)
    first = tmp_path / "one.json.gz"
    result = runner.invoke(args=["kb", "backup", str(first)])
    assert result.exit_code == 0, result.output
    target = _fresh(tmp_path, "restored.db")
    restored = target.test_cli_runner().invoke(args=["kb", "restore", str(first)])
    assert restored.exit_code == 0, restored.output
    second = tmp_path / "two.json.gz"
    assert target.test_cli_runner().invoke(args=["kb", "backup", str(second)]).exit_code == 0
    one, two = (json.loads(gzip.open(p, "rt").read()) for p in (first, second))
    assert one["tables"] == two["tables"]
    with storage.database(target).session() as s:
        assert [x.question for x in suggestable.list_suggestable(session=s)] == ["How do I restart my router?"]
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == len(one["tables"]["audit_events"]) > 3
    storage.database(target).engine.dispose()


def test_restore_refuses_a_non_empty_database_and_writes_nothing(app, runner, tmp_path: Path) -> None:
    path = tmp_path / "b.json.gz"
    runner.invoke(args=["kb", "backup", str(path)])
    again = runner.invoke(args=["kb", "restore", str(path)])
    assert again.exit_code == 1 and "not empty" in again.output


def test_restore_refuses_something_that_is_not_a_backup(app, runner, tmp_path: Path) -> None:
    junk = tmp_path / "junk.gz"
    junk.write_bytes(b"not gzip at all")
    result = runner.invoke(args=["kb", "restore", str(junk)])
    assert result.exit_code == 1 and result.output.strip().endswith("is not a Vetted backup")
