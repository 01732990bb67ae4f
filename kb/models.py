"""Knowledge-base tables: entries and their versions, audit, owners, users, keys, inquiries."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    """Return the current UTC time without tzinfo (stored naive, always UTC)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON}


class KbState(Base):
    __tablename__ = "kb_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
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


class Entry(Base):
    __tablename__ = "entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The id the entry had in the file it was imported from, kept so exports round-trip.
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    lang: Mapped[str] = mapped_column(String(8))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    approved_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("entry_versions.id", use_alter=True, name="fk_entry_approved_version")
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    category: Mapped[Category | None] = relationship()
    department: Mapped[Department | None] = relationship()
    approved_version: Mapped[EntryVersion | None] = relationship(
        foreign_keys=[approved_version_id], post_update=True
    )
    versions: Mapped[list[EntryVersion]] = relationship(
        back_populates="entry", foreign_keys="EntryVersion.entry_id", order_by="EntryVersion.number"
    )

    __mapper_args__ = {"version_id_col": row_version}


class VersionContributor(Base):
    """Someone who wrote or changed a version's text: none of them may approve it (four eyes)."""

    __tablename__ = "version_contributors"

    version_id: Mapped[int] = mapped_column(ForeignKey("entry_versions.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)


class EntryVersion(Base):
    """One version of an entry. Its content is frozen once submitted; only its status moves on."""

    __tablename__ = "entry_versions"
    __table_args__ = (UniqueConstraint("entry_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    question: Mapped[str] = mapped_column(Text)
    alternates: Mapped[list[str]] = mapped_column(JSON, default=list)
    answer: Mapped[str] = mapped_column(Text)
    variants: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    placeholders: Mapped[list[str]] = mapped_column(JSON, default=list)
    review_by: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), index=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    retired_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # The KB generation at which this version last entered or left the suggestable set.
    changed_generation: Mapped[int] = mapped_column(Integer, default=0, index=True)
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    entry: Mapped[Entry] = relationship(back_populates="versions", foreign_keys=[entry_id])
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    approver: Mapped[User | None] = relationship(foreign_keys=[approver_id])
    contributions: Mapped[list[VersionContributor]] = relationship(cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": row_version}

    @property
    def contributor_ids(self) -> set[int]:
        """Return the ids of everyone who wrote or changed this version's text, the author included."""
        ids = {c.user_id for c in self.contributions}
        if self.author_id is not None:
            ids.add(self.author_id)
        return ids


class AuditEvent(Base):
    """Append-only record of who did what to which version, when."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(32))
    entry_id: Mapped[int | None] = mapped_column(Integer, index=True)
    version_id: Mapped[int | None] = mapped_column(Integer)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    comment: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[User | None] = relationship()


class RedFlagRule(Base):
    __tablename__ = "red_flag_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    lang: Mapped[str] = mapped_column(String(8))
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    patterns: Mapped[list[str]] = mapped_column(JSON, default=list)
    examples: Mapped[list[str]] = mapped_column(JSON, default=list)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    holding_statement: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[int] = mapped_column(Integer, default=2)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    department: Mapped[Department | None] = relationship()

    __mapper_args__ = {"version_id_col": row_version}


class Inquiry(Base):
    """One question asked through the agent page or the API."""

    __tablename__ = "inquiries"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(32), default="web")
    source: Mapped[str] = mapped_column(String(16), default="page")
    outcome: Mapped[str] = mapped_column(String(16), index=True)
    top_entry_id: Mapped[int | None] = mapped_column(Integer)
    top_score: Mapped[float | None] = mapped_column(Float)
    rule_id: Mapped[int | None] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))
    chosen_entry_id: Mapped[int | None] = mapped_column(Integer)
    chosen_version: Mapped[int | None] = mapped_column(Integer)
    feedback: Mapped[str | None] = mapped_column(String(16))
    sent_text: Mapped[str | None] = mapped_column(Text)
    sent_to_pr: Mapped[bool] = mapped_column(Boolean, default=False)
    dismissed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    crisis_id: Mapped[int | None] = mapped_column(Integer)
    # Who owes the customer an in-house answer (escalations and routed categories), and when it was given.
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id", name="fk_inquiries_department_id"), index=True)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", name="fk_inquiries_resolved_by_id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    first_response_due: Mapped[dt.datetime | None] = mapped_column(DateTime)
    resolution_due: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # A conversation is owed only once it is handed over: an escalation, a question sent to PR, or an agent's
    # hand-off to a department (a sales lead, a service case). Routine answers are not owed.
    handoff: Mapped[str | None] = mapped_column(String(24), index=True)
    # The agency's clock: when the agent first replied on the page (copied or used an answer or a statement).
    replied_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # The organisation's clock: when the department took the conversation over, and by when it should.
    taken_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    taken_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", name="fk_inquiries_taken_by_id"))
    take_due: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # The same message asked again by the same agent soon after is the same inquiry, not a new one.
    asked_count: Mapped[int] = mapped_column(Integer, default=1)
    last_asked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    took_ms: Mapped[float] = mapped_column(Float, default=0.0)


class EmbeddingCache(Base):
    """Embeddings by (model id, text hash), so a restart or a new worker never re-encodes."""

    __tablename__ = "embedding_cache"

    model_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class Crisis(Base):
    """A topic under crisis: while active, every matching question gets the holding statement and escalates."""

    __tablename__ = "crises"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    holding_statement: Mapped[str] = mapped_column(Text)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    entry_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    pattern: Mapped[str] = mapped_column(String(500), default="")  # advanced: a regular expression
    # What the crisis covers, in the office's words: more categories, and words or phrases in the message.
    categories: Mapped[list[str] | None] = mapped_column(JSON, default=list)
    keywords: Mapped[list[str] | None] = mapped_column(JSON, default=list)
    # The holding statement in each language ({"he": ..., "en": ...}); `holding_statement` is the fallback.
    holding_statements: Mapped[dict[str, str] | None] = mapped_column(JSON, default=dict)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    category: Mapped[Category | None] = relationship()
    department: Mapped[Department | None] = relationship()


class Alert(Base):
    """Something PR should look at now, such as a spike of questions on one topic."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(300), index=True)
    message: Mapped[str] = mapped_column(Text)
    count: Mapped[int] = mapped_column(Integer, default=0)
    baseline: Mapped[float] = mapped_column(Float, default=0.0)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # One alert per topic per window, even when several workers look at the same moment.
    window_start: Mapped[dt.datetime | None] = mapped_column(DateTime)
    inquiry_ids: Mapped[list[int] | None] = mapped_column(JSON)  # the questions that made it

    __table_args__ = (UniqueConstraint("kind", "key", "window_start", name="uq_alerts_topic_window"),)


class Notifier(Base):
    """Where a department is told about escalations and alerts: a webhook or an e-mail address."""

    __tablename__ = "notifiers"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    kind: Mapped[str] = mapped_column(String(16))  # webhook | email
    target: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(200), default="")  # HMAC key of a webhook
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    department: Mapped[Department] = relationship()


class Delivery(Base):
    """One message to one notifier: retried until sent, never dropped silently."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    notifier_id: Mapped[int | None] = mapped_column(ForeignKey("notifiers.id"))
    kind: Mapped[str] = mapped_column(String(16))  # inapp | webhook | email
    subject: Mapped[str] = mapped_column(String(300))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending|sending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime)  # while "sending": when others may take over
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    notifier: Mapped[Notifier | None] = relationship()
