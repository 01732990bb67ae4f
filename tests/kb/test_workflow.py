"""The lifecycle rules, exhaustively: every role, every action, every status."""
from __future__ import annotations

import itertools

import pytest

from kb.errors import PermissionDenied, TransitionNotAllowed, ValidationFailed
from kb.workflow import RULES, Action, Role, Status, can, transition

EXPECTED_TARGET = {
    Action.EDIT: Status.DRAFT,
    Action.SUBMIT: Status.IN_REVIEW,
    Action.WITHDRAW: Status.DRAFT,
    Action.APPROVE: Status.APPROVED,
    Action.REJECT: Status.REJECTED,
    Action.RETIRE: Status.RETIRED,
}
ALLOWED_FROM = {
    Action.EDIT: {Status.DRAFT, Status.REJECTED},
    Action.SUBMIT: {Status.DRAFT, Status.REJECTED},
    Action.WITHDRAW: {Status.IN_REVIEW},
    Action.APPROVE: {Status.IN_REVIEW},
    Action.REJECT: {Status.IN_REVIEW},
    Action.RETIRE: {Status.APPROVED},
}
MIN_ROLE = {
    Action.EDIT: Role.EDITOR,
    Action.SUBMIT: Role.EDITOR,
    Action.WITHDRAW: Role.EDITOR,
    Action.APPROVE: Role.APPROVER,
    Action.REJECT: Role.APPROVER,
    Action.RETIRE: Role.APPROVER,
}


@pytest.mark.parametrize(("action", "status", "role"), list(itertools.product(Action, Status, Role)))
def test_every_role_action_and_status(action: Action, status: Status, role: Role) -> None:
    allowed = role.at_least(MIN_ROLE[action]) and status in ALLOWED_FROM[action]
    if allowed:
        assert transition(action, status=status, role=role, is_author=False, comment="because") is (
            EXPECTED_TARGET[action]
        )
        assert can(action, status=status, role=role, is_author=False)
    else:
        with pytest.raises((PermissionDenied, TransitionNotAllowed)):
            transition(action, status=status, role=role, is_author=False, comment="because")
        assert not can(action, status=status, role=role, is_author=False)


def test_the_table_covers_every_action() -> None:
    assert set(RULES) == set(Action)


@pytest.mark.parametrize("role", [Role.APPROVER, Role.ADMIN])
def test_nobody_approves_their_own_draft(role: Role) -> None:
    with pytest.raises(PermissionDenied, match="own draft"):
        transition(Action.APPROVE, status=Status.IN_REVIEW, role=role, is_author=True)


def test_small_offices_may_allow_self_approval() -> None:
    assert transition(Action.APPROVE, status=Status.IN_REVIEW, role=Role.APPROVER, is_author=True,
                      allow_self_approval=True) is Status.APPROVED


@pytest.mark.parametrize("action", [Action.REJECT, Action.RETIRE])
@pytest.mark.parametrize("comment", ["", "   "])
def test_reject_and_retire_need_a_comment(action: Action, comment: str) -> None:
    status = Status.IN_REVIEW if action is Action.REJECT else Status.APPROVED
    with pytest.raises(ValidationFailed, match="comment"):
        transition(action, status=status, role=Role.APPROVER, is_author=False, comment=comment)


def test_roles_are_ordered() -> None:
    assert Role.ADMIN.at_least(Role.APPROVER) and Role.APPROVER.at_least(Role.EDITOR)
    assert Role.EDITOR.at_least(Role.AGENT) and not Role.AGENT.at_least(Role.EDITOR)
