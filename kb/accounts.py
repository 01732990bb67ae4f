"""Users and API keys: create, authenticate, scope, revoke."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from kb import audit, sessions, throttle
from kb.audit import AuditAction
from kb.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from kb.models import ApiKey, User, utcnow
from kb.storage import use_case
from kb.workflow import Role

SCOPES = ("suggest", "feedback", "read")
KEY_PREFIX = "vt_"
MIN_PASSWORD = 10
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
# Compared against when the username is unknown, so a failed login takes as long either way.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


@use_case
def create_user(
    *, session: Session, username: str, password: str, role: str, display_name: str = "", actor: User | None = None
) -> User:
    """Create a user with a hashed password."""
    if not _USERNAME.match(username or ""):
        raise ValidationFailed("a username has 2 to 64 letters, digits or . _ @ -")
    try:
        Role(role)
    except ValueError:
        raise ValidationFailed(f"role must be one of {', '.join(r.value for r in Role)}") from None
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed(f"a password needs at least {MIN_PASSWORD} characters")
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} exists already")
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=generate_password_hash(password),
        role=role,
    )
    session.add(user)
    session.flush()
    audit.record(session, actor=actor, action=AuditAction.USER_CREATE, after={"username": username, "role": role})
    session.commit()
    return user


def get_user(*, session: Session, user_id: int) -> User | None:
    """Return a user by id."""
    return session.get(User, user_id)


@use_case
def set_role(*, session: Session, user_id: int, role: str, active: bool, actor: User) -> User:
    """Change a user's role or deactivate them; an admin cannot lock themselves out."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    try:
        Role(role)
    except ValueError:
        raise ValidationFailed(f"role must be one of {', '.join(r.value for r in Role)}") from None
    if user.id == actor.id and (role != Role.ADMIN.value or not active):
        raise ValidationFailed("you cannot remove your own admin rights; ask another admin")
    before = {"role": user.role, "active": user.active}
    if (user.role, user.active) != (role, active):
        # A session carries the rights of its sign-in: whoever loses or changes rights signs in again.
        sessions.end_all(session=session, user_id=user.id)
    user.role, user.active = role, active
    audit.record(session, actor=actor, action=AuditAction.USER_UPDATE, before=before,
                 after={"username": user.username, "role": role, "active": active})
    session.commit()
    return user


@use_case
def set_password(*, session: Session, user_id: int, password: str, actor: User | None = None) -> User:
    """Give a user a new password and end every session they have open."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed(f"a password needs at least {MIN_PASSWORD} characters")
    user.password_hash = generate_password_hash(password)
    sessions.end_all(session=session, user_id=user.id)
    audit.record(session, actor=actor, action=AuditAction.USER_PASSWORD, after={"username": user.username})
    session.commit()
    return user


@use_case
def set_language(*, session: Session, user_id: int, language: str) -> None:
    """Keep a user's interface language on the account, so it survives signing out and in."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    if user.language != language:
        user.language = language
        session.commit()


def list_users(*, session: Session) -> list[User]:
    """Return every user by name."""
    return list(session.scalars(select(User).order_by(User.username)))


def get_by_username(*, session: Session, username: str) -> User:
    """Return a user by name or raise NotFound."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


# One answer for a wrong password, an unknown or deactivated user and a paused sign-in, so none can be told apart.
SIGN_IN_REFUSED = "wrong username or password (after too many failed logins, signing in from here pauses for a while)"


@dataclass(frozen=True)
class SignInLimits:
    """How many sign-ins may fail, and for how long sign-in then pauses."""

    max_failures: int = 5  # per username and client address
    lock_minutes: int = 15
    address_max_failures: int = 50  # per client address, whatever the usernames


def authenticate(
    *, session: Session, username: str, password: str, address: str = "", limits: SignInLimits | None = None
) -> User:
    """Return the user if the password is right; count every attempt and pause sign-in after too many failures."""
    limits = limits or SignInLimits()
    window = dt.timedelta(minutes=limits.lock_minutes)
    # PostgreSQL text cannot hold NUL: the counter keeps the name without it, and no stored username has one.
    name, where = username.replace("\x00", "")[:64], throttle.client_key(address)
    now = utcnow()
    session.rollback()  # the counting UPDATE must open its transaction, or SQLite cannot wait for the write lock
    # Counted before the password is looked at: simultaneous guesses each take a number, and only the first
    # max_failures of a window can succeed, however many arrive at once.
    attempt = throttle.count(session=session, username=name, address=where, now=now, window=window)
    from_address = throttle.current(session=session, username=throttle.ANY_USER, address=where, now=now)
    session.commit()
    user = session.scalar(select(User).where(User.username == username)) if _USERNAME.match(username) else None
    live = user if user is not None and user.active else None
    # Exactly one slow hash on every path, so the time taken does not tell unknown, locked and wrong apart.
    right = check_password_hash(live.password_hash if live else _DUMMY_HASH, password)
    session.commit()  # end the read before writing again (see above)
    paused = attempt > limits.max_failures or from_address >= limits.address_max_failures
    if right and live is not None and not paused:
        throttle.clear(session=session, username=name, address=where)
        session.commit()
        return live
    if not right:
        failures = throttle.count(session=session, username=throttle.ANY_USER, address=where, now=now, window=window)
        if attempt == limits.max_failures:
            _pause(session, username=name, address=where, until=now + window)
        if failures == limits.address_max_failures:
            _pause(session, username=throttle.ANY_USER, address=where, until=now + window)
        session.commit()
    raise PermissionDenied(SIGN_IN_REFUSED)


def _pause(session: Session, *, username: str, address: str, until: dt.datetime) -> None:
    throttle.hold(session=session, username=username, address=address, until=until)
    who = f"for {username!r} " if username else ""
    audit.record(session, actor=None, action=AuditAction.LOGIN_LOCKED,
                 comment=f"too many failed sign-ins {who}from {address}; paused until {until:%Y-%m-%d %H:%M} UTC",
                 after={"username": username or None, "address": address,
                        "until": until.isoformat(timespec="seconds")})


def _hash_key(raw: str) -> str:
    # Keys are 256-bit random secrets, so a fast keyed-free hash is enough; passwords use a slow KDF.
    return hashlib.sha256(raw.encode()).hexdigest()


@use_case
def create_api_key(
    *, session: Session, user: User, scopes: list[str], name: str = "", actor: User | None = None
) -> tuple[ApiKey, str]:
    """Create a key for `user` and return it with its secret, which is shown only this once."""
    scopes = sorted(set(scopes))
    unknown = [s for s in scopes if s not in SCOPES]
    if not scopes or unknown:
        raise ValidationFailed(f"scopes must be some of {', '.join(SCOPES)}")
    prefix = secrets.token_hex(4)
    raw = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(user_id=user.id, name=name, prefix=prefix, key_hash=_hash_key(raw), scopes=scopes)
    session.add(key)
    session.flush()
    audit.record(session, actor=actor or user, action=AuditAction.APIKEY_CREATE,
                 after={"key_id": key.id, "user": user.username, "scopes": scopes})
    session.commit()
    return key, raw


@dataclass(frozen=True)
class LiveKey:
    """A live API key as a request sees it: whose it is and what it may do. Plain data, read in one row."""

    id: int
    user_id: int
    username: str
    name: str
    scopes: tuple[str, ...]


_KEY_TABLE, _USER_TABLE = cast(Table, ApiKey.__table__), cast(Table, User.__table__)
_KEYS, _USERS = _KEY_TABLE.c, _USER_TABLE.c
# Every API call checks its key: one prebuilt Core statement (the key with its user), a third of an ORM query's cost.
_KEY_BY_HASH = (select(_KEYS.id, _KEYS.user_id, _KEYS.name, _KEYS.scopes, _KEYS.key_hash, _KEYS.revoked_at,
                       _KEYS.last_used_at, _USERS.username, _USERS.active)
                .join_from(_KEY_TABLE, _USER_TABLE, _KEYS.user_id == _USERS.id)
                .where(_KEYS.key_hash == bindparam("key_hash")))
_TOUCH = update(_KEY_TABLE).where(_KEYS.id == bindparam("key_id")).values(last_used_at=bindparam("now"))


def verify_api_key(*, session: Session, raw: str, touch: bool = True) -> LiveKey | None:
    """Return the live key matching `raw`, recording its use, or None."""
    if not raw.startswith(KEY_PREFIX) or len(raw) > 200:
        return None
    hashed = _hash_key(raw)
    row = session.connection().execute(_KEY_BY_HASH, {"key_hash": hashed}).first()
    if row is None or row.revoked_at is not None or not row.active:
        return None
    if not hmac.compare_digest(row.key_hash, hashed):
        return None
    if touch:
        now = utcnow()
        # Writing on every call would serialise requests on one row; a minute's precision is plenty.
        if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
            session.connection().execute(_TOUCH, {"key_id": row.id, "now": now})
            session.commit()
    return LiveKey(row.id, row.user_id, row.username, row.name, tuple(row.scopes or ()))


@use_case
def revoke_api_key(*, session: Session, key_id: int, actor: User | None = None, own_only: bool = False) -> ApiKey:
    """Revoke a key; it stops working at once. With `own_only`, the actor may revoke only a key of their own."""
    key = session.get(ApiKey, key_id)
    if key is None or (own_only and (actor is None or key.user_id != actor.id)):
        raise NotFound(f"no API key {key_id}")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        audit.record(session, actor=actor, action=AuditAction.APIKEY_REVOKE, after={"key_id": key.id})
        session.commit()
    return key


def list_api_keys(*, session: Session, user_id: int | None = None) -> list[ApiKey]:
    """Return every API key (or one user's), newest first."""
    query = select(ApiKey).order_by(ApiKey.id.desc())
    if user_id is not None:
        query = query.where(ApiKey.user_id == user_id)
    return list(session.scalars(query))
