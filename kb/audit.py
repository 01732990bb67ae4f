"""The audit trail: the one place an AuditEvent is written, with a closed list of what can be recorded."""
from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from kb.models import AuditEvent, EntryVersion, User


class AuditAction(StrEnum):
    # entries and their versions
    CREATE = "create"
    EDIT = "edit"
    SUBMIT = "submit"
    WITHDRAW = "withdraw"
    APPROVE = "approve"
    REJECT = "reject"
    RETIRE = "retire"
    SUPERSEDE = "supersede"
    IMPORT = "import"
    PHRASING_PROPOSE = "phrasing_propose"
    PHRASING_ACCEPT = "phrasing_accept"
    PHRASING_REJECT = "phrasing_reject"
    # accounts
    USER_CREATE = "user_create"
    USER_UPDATE = "user_update"
    APIKEY_CREATE = "apikey_create"
    APIKEY_REVOKE = "apikey_revoke"
    USER_PASSWORD = "user_password"
    LOGIN_LOCKED = "login_locked"
    # owners and response times
    CONTACT_ADD = "contact_add"
    CONTACT_ON_CALL = "contact_on_call"
    CONTACT_REMOVE = "contact_remove"
    CATEGORY_UPDATE = "category_update"
    # escalation set-up and follow-up
    RED_FLAG_RULE_SAVE = "red_flag_rule_save"
    RED_FLAG_RULE_REMOVE = "red_flag_rule_remove"
    CRISIS_START = "crisis_start"
    CRISIS_END = "crisis_end"
    INQUIRY_TAKEN = "inquiry_taken"
    NOTIFIER_ADD = "notifier_add"
    NOTIFIER_REMOVE = "notifier_remove"
    INQUIRY_RESOLVED = "inquiry_resolved"
    UNANSWERED_DISMISS = "unanswered_dismiss"


def record(
    session: Session,
    *,
    actor: User | int | None,
    action: AuditAction,
    version: EntryVersion | None = None,
    entry_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    comment: str = "",
) -> AuditEvent:
    """Stage one audit event in the caller's transaction (it commits or rolls back with the change itself)."""
    event = AuditEvent(
        actor_id=actor.id if isinstance(actor, User) else actor,
        action=AuditAction(action).value,
        entry_id=version.entry_id if version is not None else entry_id,
        version_id=version.id if version is not None else None,
        before=before,
        after=after,
        comment=comment,
    )
    session.add(event)
    return event
