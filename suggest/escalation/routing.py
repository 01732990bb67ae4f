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


# The spokesperson's office hears of every message that could become a story, whoever takes it over.
TELL_SPOKESPERSON = frozenset({"press", "protest"})


def combined_escalation(rules: list[RedFlagRule], lang: str, by_kind_lang: dict[tuple[str, str], RedFlagRule],
                        spokesperson_id: int | None) -> Escalation:
    """Return one escalation for every rule a message trips (most severe first).

    The most severe kind decides who takes over and which holding statement is posted, in the message's
    language where a rule of that kind exists in it; every department concerned is notified.
    """
    first = rules[0]
    lead = by_kind_lang.get((first.kind, lang), first)
    escalation = rule_escalation(lead)
    kinds = list(dict.fromkeys(r.kind for r in rules))
    notified = [r.department_id for r in rules if r.department_id is not None]
    if spokesperson_id is not None and TELL_SPOKESPERSON.intersection(kinds):
        notified.append(spokesperson_id)
    return Escalation(**{**escalation.__dict__, "rule_id": first.id, "kinds": kinds,
                         "notify_department_ids": list(dict.fromkeys(notified))})


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
