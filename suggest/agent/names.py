"""Category and department names in the reader's language (the page's, or the API caller's Accept-Language)."""
from __future__ import annotations

from typing import Any

from flask import current_app

from kb import owners, storage
from suggest import engine as engine_mod
from web.i18n import current_language

# (kind, slug or main name) -> (main name, names per language)
NameTable = dict[tuple[str, str], tuple[str, dict[str, str]]]


def _name_table() -> NameTable:
    s = storage.session()
    table: NameTable = {}
    for kind, items in (("department", owners.list_departments(session=s)),
                        ("category", owners.list_categories(session=s))):
        for item in items:
            table[(kind, item.name)] = table[(kind, item.slug)] = (item.name, dict(item.names or {}))
    return table


def names_in_language(body: dict[str, Any]) -> dict[str, Any]:
    """Return the suggest response with category and department names in the reader's language.

    The names are read once per KB generation (renaming a department or category moves it), not on every question:
    reading them cost more than the rest of a repeated question's answer.
    """
    eng = engine_mod.engine(current_app)
    table = eng.kept(eng.generation, "names", _name_table)
    lang = current_language()

    def named(kind: str, slug: str) -> str:
        main, names = table.get((kind, slug), (slug, {}))
        return names.get(lang) or main

    for s in body.get("suggestions") or []:
        if s.get("category"):  # the slug stays as it is; the name is added for display
            s["category_name"] = named("category", s["category"])
        if s.get("route") and s["route"].get("department"):
            s["route"]["department"] = named("department", s["route"]["department"])
    escalation = body.get("escalation")
    if escalation and escalation.get("department"):
        escalation["department"] = named("department", escalation["department"])
    return body
