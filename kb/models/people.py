"""Who works with Vetted: departments and their contacts, categories, users, sessions and API keys."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.models.base import Base, utcnow


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    names: Mapped[dict[str, str] | None] = mapped_column(JSON)  # the name per interface language ("he", "en")
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    contacts: Mapped[list[Contact]] = relationship(back_populates="department", order_by="Contact.id")

    __mapper_args__ = {"version_id_col": row_version}


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(64), default="")
    on_call: Mapped[bool] = mapped_column(Boolean, default=False)
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    department: Mapped[Department] = relationship(back_populates="contacts")

    __mapper_args__ = {"version_id_col": row_version}


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    names: Mapped[dict[str, str] | None] = mapped_column(JSON)  # the name per interface language ("he", "en")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    first_response_minutes: Mapped[int] = mapped_column(Integer, default=60)  # the agency's first reply
    take_minutes: Mapped[int] = mapped_column(Integer, default=60)  # the department takes a handed-over one
    resolution_minutes: Mapped[int] = mapped_column(Integer, default=24 * 60)  # the department resolves it
    # Conversations in a routed category are handed to the department after the approved first reply.
    routed: Mapped[bool] = mapped_column(Boolean, default=False)
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    department: Mapped[Department | None] = relationship()

    __mapper_args__ = {"version_id_col": row_version}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # No longer read or written: sign-in throttling lives in login_throttles, keyed by username and address.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    language: Mapped[str | None] = mapped_column(String(8))  # interface language, kept across sign-ins
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": row_version}


class UserSession(Base):
    """One console sign-in: the cookie holds a random token, the database only its hash."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    user: Mapped[User] = relationship()


class LoginThrottle(Base):
    """Sign-in attempts for one (username, client address) pair, or for one address (username empty)."""

    __tablename__ = "login_throttles"
    __table_args__ = (UniqueConstraint("username", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The count starts again from zero after this moment; while attempts exceed the limit it is the lock's end.
    reset_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(200), default="")
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(128), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    user: Mapped[User] = relationship()


class ApiRateWindow(Base):
    """Requests of one API key in one clock minute, counted in the database so every worker shares the limit."""

    __tablename__ = "api_rate_windows"

    key_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    minute: Mapped[int] = mapped_column(Integer, primary_key=True)  # seconds since the epoch // 60
    hits: Mapped[int] = mapped_column(Integer, nullable=False)
