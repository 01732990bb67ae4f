"""SQLAlchemy 2.0 typed models of the knowledge base, one module per part; import them from here."""
from __future__ import annotations

from kb.models.base import Base, KbState, utcnow
from kb.models.entries import (
    PHRASING_ACCEPTED,
    PHRASING_CANDIDATE,
    PHRASING_REJECTED,
    AuditEvent,
    EmbeddingCache,
    Entry,
    EntryVersion,
    Phrasing,
    PhrasingPick,
    VersionContributor,
)
from kb.models.escalation import Alert, Crisis, Delivery, Inquiry, Notifier, RedFlagRule, text_key
from kb.models.people import ApiKey, ApiRateWindow, Category, Contact, Department, LoginThrottle, User, UserSession

__all__ = [
    "PHRASING_ACCEPTED",
    "PHRASING_CANDIDATE",
    "PHRASING_REJECTED",
    "Alert",
    "ApiKey",
    "ApiRateWindow",
    "AuditEvent",
    "Base",
    "Category",
    "Contact",
    "Crisis",
    "Delivery",
    "Department",
    "EmbeddingCache",
    "Entry",
    "EntryVersion",
    "Inquiry",
    "KbState",
    "LoginThrottle",
    "Notifier",
    "Phrasing",
    "PhrasingPick",
    "RedFlagRule",
    "User",
    "UserSession",
    "VersionContributor",
    "text_key",
    "utcnow",
]
