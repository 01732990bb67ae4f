"""SQLAlchemy 2.0 typed models of the knowledge base, one module per part; import them from here."""
from __future__ import annotations

from kb.models.base import Base, KbState, utcnow
from kb.models.entries import AuditEvent, EmbeddingCache, Entry, EntryVersion, VersionContributor
from kb.models.escalation import Alert, Crisis, Delivery, Inquiry, Notifier, RedFlagRule
from kb.models.people import ApiKey, ApiRateWindow, Category, Contact, Department, LoginThrottle, User, UserSession

__all__ = [
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
    "RedFlagRule",
    "User",
    "UserSession",
    "VersionContributor",
    "utcnow",
]
