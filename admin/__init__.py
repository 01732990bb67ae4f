"""The PR console: entries, review, owners, escalation set-up and insights, as pages under /admin."""
from __future__ import annotations

from admin import crisis, entries, insights, manage, phrasings, transfer  # noqa: F401 - each adds its pages to bp
from admin.blueprint import bp

__all__ = ["bp"]
