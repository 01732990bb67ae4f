"""Users and API keys: create, authenticate, scope, revoke."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from kb import audit
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
    user.role, user.active = role, active
    audit.record(session, actor=actor, action=AuditAction.USER_UPDATE, before=before,
                 after={"username": user.username, "role": role, "active": active})
    session.commit()
    return user


def list_users(*, session: Session) -> list[User]:
    """Return every user by name."""
    return list(session.scalars(select(User).order_by(User.username)))


def get_by_username(*, session: Session, username: str) -> User:
    """Return a user by name or raise NotFound."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def authenticate(
    *, session: Session, username: str, password: str, max_failures: int = 5, lock_minutes: int = 15
) -> User:
    """Return the user if the password is right; count failures and lock after too many."""
    user = session.scalar(select(User).where(User.username == username))
    now = utcnow()
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password)
        raise PermissionDenied("wrong username or password")
    if user.locked_until and user.locked_until > now:
        raise PermissionDenied("too many failed logins; try again later")
    if not check_password_hash(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= max_failures:
            user.locked_until = now + dt.timedelta(minutes=lock_minutes)
            user.failed_logins = 0
        session.commit()
        raise PermissionDenied("wrong username or password")
    if user.failed_logins or user.locked_until:
        user.failed_logins = 0
        user.locked_until = None
        session.commit()
    return user


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


def verify_api_key(*, session: Session, raw: str, touch: bool = True) -> ApiKey | None:
    """Return the live key matching `raw`, recording its use, or None."""
    if not raw.startswith(KEY_PREFIX) or len(raw) > 200:
        return None
    key = session.scalar(select(ApiKey).where(ApiKey.key_hash == _hash_key(raw)))
    if key is None or key.revoked_at is not None or not key.user.active:
        return None
    if not hmac.compare_digest(key.key_hash, _hash_key(raw)):
        return None
    if touch:
        now = utcnow()
        # Writing on every call would serialise requests on one row; a minute's precision is plenty.
        if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
            key.last_used_at = now
            session.commit()
    return key


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
