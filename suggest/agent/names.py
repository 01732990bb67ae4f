"""Category and department names in the reader's language (the page's, or the API caller's Accept-Language)."""
from __future__ import annotations

from typing import Any

from web.i18n import named


def names_in_language(body: dict[str, Any]) -> dict[str, Any]:
    """Return the suggest response with category and department names in the reader's language."""
    for s in body.get("suggestions") or []:
        if s.get("category"):  # the slug stays as it is; the name is added for display
            s["category_name"] = named("category", s["category"])
        if s.get("route") and s["route"].get("department"):
            s["route"]["department"] = named("department", s["route"]["department"])
    escalation = body.get("escalation")
    if escalation and escalation.get("department"):
        escalation["department"] = named("department", escalation["department"])
    return body
