"""Console sessions kept on the server: the cookie holds a random token, the database its hash and its life."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, delete, select, update
from sqlalchemy.orm import Session

from kb.models import User, UserSession, utcnow

_TABLE = cast(Table, UserSession.__table__)
_USERS = cast(Table, User.__table__)
# Noting every request would make each page a write; a minute's precision is plenty for an idle limit in minutes.
_TOUCH_EVERY = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class Lifetime:
    """How long a session lives unused, and at most."""

    idle: dt.timedelta = dt.timedelta(minutes=480)
    absolute: dt.timedelta = dt.timedelta(hours=12)


def _hash(token: str) -> str:
    # The token is 256 random bits, so a plain hash suffices; a database leak then yields no usable cookie.
    return hashlib.sha256(token.encode()).hexdigest()


def start(*, session: Session, user: User, lifetime: Lifetime) -> str:
    """Open a session for `user` and return its token, which only the cookie keeps."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.execute(delete(_TABLE).where(_TABLE.c.created_at < now - lifetime.absolute))
    session.add(UserSession(token_hash=_hash(token), user_id=user.id, created_at=now, last_seen_at=now))
    session.commit()
    return token


def resolve(*, session: Session, token: str, lifetime: Lifetime) -> int | None:
    """Return the user id of a live session, noting its use; None once ended, idle too long or too old."""
    if not token or len(token) > 100:
        return None
    row = session.execute(
        select(_TABLE.c.id, _TABLE.c.user_id, _TABLE.c.created_at, _TABLE.c.last_seen_at, _TABLE.c.ended_at)
        .join(_USERS, _USERS.c.id == _TABLE.c.user_id)
        .where(_TABLE.c.token_hash == _hash(token), _USERS.c.active.is_(True))
    ).first()
    session.rollback()  # end the read: a later write must open its own transaction to wait for SQLite's lock
    now = utcnow()
    if row is None or row.ended_at is not None:
        return None
    if now - row.last_seen_at > lifetime.idle or now - row.created_at > lifetime.absolute:
        return None
    if now - row.last_seen_at > _TOUCH_EVERY:
        session.execute(update(_TABLE).where(_TABLE.c.id == row.id, _TABLE.c.ended_at.is_(None))
                        .values(last_seen_at=now))
        session.commit()
    return row.user_id


def end(*, session: Session, token: str) -> None:
    """End one session (sign-out): its cookie opens nothing any more."""
    session.execute(update(_TABLE).where(_TABLE.c.token_hash == _hash(token), _TABLE.c.ended_at.is_(None))
                    .values(ended_at=utcnow()))
    session.commit()


def end_all(*, session: Session, user_id: int) -> None:
    """End every session of a user inside the caller's transaction (password, role or access changed)."""
    session.execute(update(_TABLE).where(_TABLE.c.user_id == user_id, _TABLE.c.ended_at.is_(None))
                    .values(ended_at=utcnow()))

