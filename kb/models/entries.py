"""The knowledge base proper: entries, their versions and contributors, the audit trail, the vector cache."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import and_

from kb.models.base import Base, utcnow

if TYPE_CHECKING:
    from kb.models.people import Category, Department, User


PHRASING_CANDIDATE, PHRASING_ACCEPTED, PHRASING_REJECTED = "candidate", "accepted", "rejected"


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
    # Customers' wordings PR accepted: matched with whichever version is approved, now and later.
    learned_phrasings: Mapped[list[Phrasing]] = relationship(
        primaryjoin=lambda: and_(Entry.id == Phrasing.entry_id, Phrasing.status == PHRASING_ACCEPTED),
        order_by=lambda: Phrasing.id, viewonly=True,
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


class Phrasing(Base):
    """A customer's wording of an entry's question, learned from agents' picks or added by PR.

    It starts as a candidate; once an approver accepts it, it is matched as another phrasing of the entry.
    """

    __tablename__ = "phrasings"
    __table_args__ = (UniqueConstraint("entry_id", "text_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    text_hash: Mapped[str] = mapped_column(String(64))
    lang: Mapped[str] = mapped_column(String(8))
    # "picked": an agent used a lower suggestion for this message; "unanswered": PR added it from the queue.
    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=PHRASING_CANDIDATE, index=True)
    # How many times agents picked this entry for this message: the evidence PR decides on.
    times_picked: Mapped[int] = mapped_column(Integer, default=0)
    best_rank: Mapped[int | None] = mapped_column(Integer)
    inquiry_id: Mapped[int | None] = mapped_column(Integer)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # The KB generation at which it last started or stopped being matched (see kb.storage).
    changed_generation: Mapped[int] = mapped_column(Integer, default=0, index=True)

    entry: Mapped[Entry] = relationship()
    proposed_by: Mapped[User | None] = relationship(foreign_keys=[proposed_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    # A decision is written only over the status it was made on (UPDATE ... WHERE status = the one read): SQLite
    # takes no lock on a read, so two approvers deciding at once would otherwise both succeed.
    __mapper_args__ = {"version_id_col": status, "version_id_generator": False}


class PhrasingPick(Base):
    """One inquiry's pick of a lower suggestion: it counts once, however often (or however many times at once) it is
    told, and taking it back and making it again is still the one pick."""

    __tablename__ = "phrasing_picks"

    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(Integer, primary_key=True)


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


class EmbeddingCache(Base):
    """Embeddings by (model id, text hash), so a restart or a new worker never re-encodes."""

    __tablename__ = "embedding_cache"

    model_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
