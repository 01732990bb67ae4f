"""What happens to questions: inquiries, red-flag rules, crises, alerts and notifications."""
from __future__ import annotations

import datetime as dt
import hashlib
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.models.base import Base, utcnow

if TYPE_CHECKING:
    from kb.models.people import Category, Department


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


def text_key(text: str) -> str:
    """The key a message is found again by: 16 hex digits of its SHA-256 (the text itself may be long)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class Inquiry(Base):
    """One question asked through the agent page or the API."""

    __tablename__ = "inquiries"
    # "Did this agent just ask this?" is asked on every question: it reads only this asker's rows with this
    # message's key, however much the agent asked in the last half hour.
    __table_args__ = (Index("ix_inquiries_api_key_repeat", "api_key_id", "text_key", "created_at"),
                      Index("ix_inquiries_user_repeat", "user_id", "text_key", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    text_key: Mapped[str | None] = mapped_column(String(16))
    lang: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(32), default="web")
    source: Mapped[str] = mapped_column(String(16), default="page")
    outcome: Mapped[str] = mapped_column(String(16), index=True)
    top_entry_id: Mapped[int | None] = mapped_column(Integer)
    # The entries suggested, in order: an agent using a lower one teaches the matcher a phrasing (kb.phrasings).
    suggested_entry_ids: Mapped[list[int] | None] = mapped_column(JSON)
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
