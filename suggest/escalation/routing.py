"""Who takes over a conversation and by when: the escalation an agent is shown, and a routed answer's owner."""
from __future__ import annotations

from kb import owners
from kb.models import Category, Crisis, RedFlagRule
from suggest.results import Escalation, Route, Sla

# In-house response times for escalations: the first answer within 15 minutes, resolution by severity.
ESCALATION_FIRST_RESPONSE = 15
RESOLUTION_BY_SEVERITY = {1: 24 * 60, 2: 8 * 60, 3: 4 * 60, 4: 2 * 60, 5: 60}
CRISIS_SEVERITY = 5


def rule_escalation(rule: RedFlagRule) -> Escalation:
    """Return what an agent is shown when a red-flag rule trips: who takes over, what to post meanwhile, by when."""
    return Escalation(
        kind=rule.kind, rule_id=rule.id, department=rule.department.name if rule.department else None,
        contacts=owners.contacts_for(rule.department), holding_statement=rule.holding_statement,
        sla=Sla(ESCALATION_FIRST_RESPONSE, RESOLUTION_BY_SEVERITY[rule.severity]),
        department_id=rule.department_id,
    )


def crisis_escalation(crisis: Crisis) -> Escalation:
    """Return what an agent is shown for a question under a crisis in force."""
    return Escalation(
        kind="crisis", rule_id=None, department=crisis.department.name if crisis.department else None,
        contacts=owners.contacts_for(crisis.department), holding_statement=crisis.holding_statement,
        sla=Sla(ESCALATION_FIRST_RESPONSE, RESOLUTION_BY_SEVERITY[CRISIS_SEVERITY]),
        crisis_id=crisis.id, crisis=crisis.name, department_id=crisis.department_id,
    )


def category_sla(category: Category | None) -> Sla | None:
    """Return a category's agreed response times."""
    if category is None:
        return None
    return Sla(category.first_response_minutes, category.resolution_minutes)


def route(category: Category | None) -> Route | None:
    """Return the in-house department that owns answers in this category, if it is routed."""
    if category is None or not category.routed or category.department is None:
        return None
    return Route(category.department.name, owners.contacts_for(category.department), category_sla(category))
