"""Lifecycle rules of an entry version: who may move it where. Pure: no database, no Flask."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kb.errors import PermissionDenied, TransitionNotAllowed, ValidationFailed


class Role(StrEnum):
    AGENT = "agent"
    EDITOR = "editor"
    APPROVER = "approver"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]

    def at_least(self, other: Role) -> bool:
        """Say whether this role has every right of `other`."""
        return self.rank >= other.rank


_ROLE_RANK = {Role.AGENT: 0, Role.EDITOR: 1, Role.APPROVER: 2, Role.ADMIN: 3}


class Status(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"  # an approved version replaced by its approved successor
    RETIRED = "retired"


class Action(StrEnum):
    EDIT = "edit"
    SUBMIT = "submit"
    WITHDRAW = "withdraw"
    APPROVE = "approve"
    REJECT = "reject"
    RETIRE = "retire"


@dataclass(frozen=True)
class Rule:
    sources: frozenset[Status]
    target: Status
    min_role: Role
    needs_comment: bool = False


# Editing a rejected version moves it back to draft; editing an approved one is done by starting a new draft
# (kb.service.edit), never by changing the approved text.
RULES: dict[Action, Rule] = {
    Action.EDIT: Rule(frozenset({Status.DRAFT, Status.REJECTED}), Status.DRAFT, Role.EDITOR),
    Action.SUBMIT: Rule(frozenset({Status.DRAFT, Status.REJECTED}), Status.IN_REVIEW, Role.EDITOR),
    Action.WITHDRAW: Rule(frozenset({Status.IN_REVIEW}), Status.DRAFT, Role.EDITOR),
    Action.APPROVE: Rule(frozenset({Status.IN_REVIEW}), Status.APPROVED, Role.APPROVER),
    Action.REJECT: Rule(frozenset({Status.IN_REVIEW}), Status.REJECTED, Role.APPROVER, needs_comment=True),
    Action.RETIRE: Rule(frozenset({Status.APPROVED}), Status.RETIRED, Role.APPROVER, needs_comment=True),
}

SUGGESTABLE = Status.APPROVED


def transition(
    action: Action,
    *,
    status: Status,
    role: Role,
    is_author: bool,
    comment: str = "",
    allow_self_approval: bool = False,
) -> Status:
    """Return the status `action` leads to, or raise why it is not allowed."""
    # `is_author` holds for everyone who wrote or changed the version's text, not only whoever started it:
    # an approver who rewrites someone's draft has written what they would approve.
    rule = RULES[action]
    if not role.at_least(rule.min_role):
        raise PermissionDenied(f"{action.value} needs the {rule.min_role.value} role; you are {role.value}")
    if status not in rule.sources:
        allowed = ", ".join(sorted(s.value for s in rule.sources))
        raise TransitionNotAllowed(f"cannot {action.value} a version that is {status.value} (only {allowed})")
    if action is Action.APPROVE and is_author and not allow_self_approval:
        raise PermissionDenied("nobody approves their own draft or text they changed; ask another approver")
    if rule.needs_comment and not comment.strip():
        raise ValidationFailed(f"{action.value} needs a comment saying why")
    return rule.target


def can(action: Action, *, status: Status, role: Role, is_author: bool, allow_self_approval: bool = False) -> bool:
    """Say whether `action` would be allowed (a comment assumed where one is needed)."""
    try:
        transition(
            action, status=status, role=role, is_author=is_author, comment="x", allow_self_approval=allow_self_approval
        )
    except (PermissionDenied, TransitionNotAllowed):
        return False
    return True
