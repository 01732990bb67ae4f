"""Database engine, sessions, schema checks and the KB generation."""
from __future__ import annotations

import functools
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ParamSpec, TypeVar, cast

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app, g
from sqlalchemy import Engine, Table, create_engine, event, insert, make_url, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session, UOWTransaction, attributes, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from kb.models import (
    PHRASING_ACCEPTED,
    Category,
    Contact,
    Crisis,
    Department,
    Entry,
    EntryVersion,
    KbState,
    Phrasing,
    RedFlagRule,
)
from kb.workflow import Status

ROOT = Path(__file__).resolve().parent.parent
EXTENSION = "vetted.db"
P = ParamSpec("P")
R = TypeVar("R")


class Database:
    """One engine and session factory per app (kept in app.extensions, never on the module)."""

    def __init__(self, url: str) -> None:
        self.url = url
        create_private_sqlite_file(url)
        kwargs: dict = {"future": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Yield a session that is closed afterwards (services commit their own work)."""
        session = self.sessions()
        try:
            yield session
        finally:
            session.close()


def create_private_sqlite_file(url: str) -> None:
    """Create a SQLite database file readable by its owner only (SQLite would make it 0644 under the usual umask)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return
    if parsed.database.startswith("file:") or parsed.query.get("mode") == "memory":
        return
    try:
        fd = os.open(parsed.database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # an existing file keeps the mode its operator gave it
    os.close(fd)  # an empty file is an empty SQLite database; its -wal and -shm files take the same mode


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL survives a crashed process; only a power cut can lose the last commits.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def init_app(app: Flask) -> None:
    """Attach the database to the app and give each request a session."""
    app.extensions[EXTENSION] = Database(app.config["DATABASE_URL"])
    app.teardown_appcontext(_close_request_session)


def database(app: Flask | None = None) -> Database:
    """Return the app's database."""
    return (app or current_app).extensions[EXTENSION]


def session() -> Session:
    """Return the session of the current request or CLI command."""
    if "db_session" not in g:
        g.db_session = database().sessions()
    return g.db_session


def _close_request_session(_exc: BaseException | None) -> None:
    s = g.pop("db_session", None)
    if s is not None:
        s.close()


def alembic_config(url: str) -> Config:
    """Return an Alembic config pointing at the project's migrations and `url`."""
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str) -> None:
    """Upgrade the database at `url` to the newest schema."""
    create_private_sqlite_file(url)
    command.upgrade(alembic_config(url), "head")


def migrate_engine(engine: Engine) -> None:
    """Upgrade the database behind `engine` on its own connection (in-memory databases need this)."""
    cfg = alembic_config(str(engine.url))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def schema_state(engine: Engine) -> tuple[str | None, str]:
    """Return (the database's revision, the code's head revision)."""
    head = ScriptDirectory.from_config(alembic_config(str(engine.url))).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    return current, head or ""


def is_migrated(engine: Engine) -> bool:
    """Say whether the database is at the code's schema."""
    current, head = schema_state(engine)
    return current == head


def upsert_insert(dialect_name: str) -> Callable[..., postgresql.Insert | sqlite.Insert]:
    """Return the dialect's INSERT, the one with ON CONFLICT (PostgreSQL and SQLite 3.24+ write it alike)."""
    return postgresql.insert if dialect_name == "postgresql" else sqlite.insert


def generation(s: Session) -> int:
    """Return the KB generation: it moves whenever what may be suggested changes. Every question reads it, so it is
    one prebuilt Core statement on the session's connection (a fifth of an ORM query's cost)."""
    return s.connection().execute(_GENERATION).scalar() or 0


_KB_STATE = cast(Table, KbState.__table__)
_GENERATION = select(_KB_STATE.c.generation).where(_KB_STATE.c.id == 1)

# What is shown or decided with a suggestion (owners, response times, red flags, crises) lives in these tables: any
# change to them moves the KB generation. Versions move it only when they enter or leave the approved set (an
# approved version's text never changes); entries when one being served changes (its category, say).
_SHAPES_SUGGESTIONS = (Category, Department, Contact, RedFlagRule, Crisis)
_SERVED = Status.APPROVED.value


def _enters_or_leaves(session: Session, obj: object) -> bool:
    """Return whether a version enters or leaves the approved set, or a phrasing starts or stops being matched."""
    if not isinstance(obj, EntryVersion | Phrasing):
        return False
    served = _SERVED if isinstance(obj, EntryVersion) else PHRASING_ACCEPTED
    if obj in session.new:
        return obj.status == served
    added, _unchanged, deleted = attributes.get_history(obj, "status")
    return served in (added or ()) or served in (deleted or ()) or (obj in session.deleted and obj.status == served)


@event.listens_for(Session, "before_flush")
def _move_generation(session: Session, _flush_context: UOWTransaction, _instances: object) -> None:
    """Raise the KB generation in the same transaction as any change to what may be suggested."""
    moved = [obj for obj in (*session.new, *session.dirty, *session.deleted) if _enters_or_leaves(session, obj)]
    shaped = any(isinstance(obj, _SHAPES_SUGGESTIONS) and (obj not in session.dirty or session.is_modified(obj))
                 for obj in (*session.new, *session.dirty, *session.deleted))
    shaped = shaped or any(isinstance(obj, Entry) and obj.approved_version_id is not None
                           and session.is_modified(obj, include_collections=False) for obj in session.dirty)
    if not moved and not shaped:
        return
    state = _KB_STATE
    connection = session.connection()
    current = connection.execute(
        update(state).where(state.c.id == 1).values(generation=state.c.generation + 1).returning(state.c.generation)
    ).scalar()
    if current is None:
        connection.execute(insert(state).values(id=1, generation=1))
        current = 1
    for moved_obj in moved:
        # A worker's index applies the difference since the generation it holds: this version entered or left,
        # or this phrasing's entry is matched on different texts.
        moved_obj.changed_generation = current


def instance_secret(instance_path: str) -> str:
    """Return the instance's session key, creating it once with owner-only permissions."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()


def use_case(fn: Callable[P, R]) -> Callable[P, R]:
    """Mark a service function as one transaction: whatever it raises, its session is rolled back first.

    Callers (views, commands) can then catch a domain error and go on with a clean session.
    """

    @functools.wraps(fn)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except BaseException:
            session = kwargs.get("session")
            if isinstance(session, Session):
                session.rollback()
            raise

    return wrapped
