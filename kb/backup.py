"""Backup and restore of the whole knowledge base, audit log included, as portable gzipped JSON.

A backup taken from SQLite restores into PostgreSQL and back: rows are written table by table in foreign-key
order, values as JSON with dates as ISO text. The embedding cache is left out (it is rebuilt on demand), and so are
sign-in sessions and throttle counters: a restore must not bring back anyone's session.
"""
from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Date, DateTime, Engine, LargeBinary, Table, func, insert, select, text, update

from kb import storage
from kb.errors import ValidationFailed
from kb.models import Base, Entry

SKIPPED = {"embedding_cache", "user_sessions", "login_throttles"}
FORMAT = "vetted-backup/1"


def _tables() -> list[Any]:
    return [t for t in Base.metadata.sorted_tables if t.name not in SKIPPED]


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def _decode(column: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, DateTime):
        return dt.datetime.fromisoformat(value)
    if isinstance(column.type, Date):
        return dt.date.fromisoformat(value)
    if isinstance(column.type, LargeBinary):
        return base64.b64decode(value)
    return value


def backup(engine: Engine, path: Path, progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Write every table to `path`; return the row count per table."""
    current, _ = storage.schema_state(engine)
    data: dict[str, Any] = {"format": FORMAT, "schema": current, "taken_at": dt.datetime.now(dt.UTC).isoformat(),
                            "tables": {}}
    counts = {}
    with engine.connect() as conn:
        for table in _tables():
            rows = [{k: _encode(v) for k, v in row._mapping.items()}
                    for row in conn.execute(select(table).order_by(*table.primary_key.columns))]
            data["tables"][table.name] = rows
            counts[table.name] = len(rows)
            if progress:
                progress(table.name, len(rows))
    # A backup holds password and key hashes: readable by its owner only, like the database itself.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT
    with os.fdopen(fd, "wb") as raw, gzip.open(raw, "wt", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, sort_keys=True)
    return counts


def restore(engine: Engine, path: Path, progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Load a backup into an empty database at the same schema, all or nothing; return the row counts."""
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, json.JSONDecodeError, EOFError):
        raise ValidationFailed(f"{path} is not a Vetted backup") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValidationFailed(f"{path} is not a Vetted backup")
    current, _ = storage.schema_state(engine)
    if data["schema"] != current:
        raise ValidationFailed(f"the backup is of schema {data['schema']}, the database is at {current}; "
                               "run `flask kb init` on a database of the backup's version first")
    counts = {}
    with engine.begin() as conn:
        for table in _tables():
            if table.name != "kb_state" and conn.scalar(select(func.count()).select_from(table)):
                raise ValidationFailed(f"the database is not empty (table {table.name}); restore into a new one")
        conn.execute(text("DELETE FROM kb_state"))
        approved: list[dict[str, Any]] = []
        for table in _tables():
            rows = [{c.name: _decode(c, row.get(c.name)) for c in table.columns}
                    for row in data["tables"].get(table.name, [])]
            if table.name == Entry.__tablename__:
                # entries and their versions point at each other: link the approved version afterwards.
                approved = [{"id": r["id"], "v": r["approved_version_id"]} for r in rows if r["approved_version_id"]]
                for r in rows:
                    r["approved_version_id"] = None
            if rows:
                conn.execute(insert(table), rows)
            counts[table.name] = len(rows)
            if progress:
                progress(table.name, len(rows))
        entries = cast(Table, Entry.__table__)
        for link in approved:
            conn.execute(update(entries).where(entries.c.id == link["id"]).values(approved_version_id=link["v"]))
        if conn.dialect.name == "postgresql":
            for table in _tables():
                pk = list(table.primary_key.columns)
                if len(pk) == 1 and pk[0].autoincrement and table.name in counts and counts[table.name]:
                    conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'), "
                                      f"(SELECT MAX({pk[0].name}) FROM {table.name}))"))
    return counts
