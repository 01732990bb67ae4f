"""Load the demo knowledge base: owners, contacts, users and 60+ approved entries in English and Hebrew."""
from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb import accounts, io, owners, service
from kb.demo_data import CONTACTS, ENGLISH, HEBREW, IN_REVIEW, PLACEHOLDERS, RETIRED
from kb.models import Contact, Entry, User
from kb.service import Draft
from kb.workflow import Status

DEMO_USERS = (("admin", "admin"), ("approver", "approver"), ("editor", "editor"), ("agent", "agent"))


def demo_rows(review_by: dt.date) -> list[dict]:
    """Return the demo entries as import rows."""
    rows = []
    for lang, table in (("en", ENGLISH), ("he", HEBREW)):
        for ext_id, category, question, alternates, answer, variants in table:
            rows.append({
                "id": ext_id, "lang": lang, "category": category, "question": question, "alternates": alternates,
                "answer": answer, "variants": variants, "placeholders": PLACEHOLDERS.get(ext_id, []),
                "review_by": review_by.isoformat(), "tags": ["demo"],
            })
    return rows


def load(*, session: Session, progress: Callable[[int], None] | None = None) -> dict[str, object]:
    """Load the demo; returns the demo users' password (or None if they existed) and the counts."""
    owners.ensure_defaults(session=session)
    for dept, name, email, phone, on_call in CONTACTS:
        if session.scalar(select(Contact).where(Contact.name == name)) is None:
            owners.add_contact(session=session, department=dept, name=name, email=email, phone=phone,
                               on_call=on_call)
    password = None
    missing = [(u, r) for u, r in DEMO_USERS if session.scalar(select(User).where(User.username == u)) is None]
    if missing:
        password = secrets.token_urlsafe(12)
        for username, role in missing:
            accounts.create_user(session=session, username=username, password=password, role=role,
                                 display_name=username.capitalize())
    admin = accounts.get_by_username(session=session, username="admin")
    approver = accounts.get_by_username(session=session, username="approver")
    editor = accounts.get_by_username(session=session, username="editor")
    rows = demo_rows(dt.date.today() + dt.timedelta(days=365))
    # The demo is loaded by the operator, like a migration: approved in one step, audited as such.
    counts = io.import_rows(session=session, rows=rows, actor=approver, target=Status.APPROVED,
                            allow_self_approval=True, via="demo", progress=progress)
    if session.scalar(select(Entry).where(Entry.external_id == IN_REVIEW[0])) is None:
        ext_id, category, question, alternates, answer, variants = IN_REVIEW
        draft = Draft(question=question, answer=answer, lang="en", alternates=alternates, variants=variants,
                      category=category)
        version = service.create_draft(session=session, actor=editor, draft=draft, external_id=ext_id)
        service.submit(session=session, actor=editor, version_id=version.id)
    retired = session.scalar(select(Entry).where(Entry.external_id == RETIRED))
    if retired is not None and retired.approved_version_id is not None:
        service.retire(session=session, actor=admin, entry_id=retired.id,
                       reason="The senior and student discount ended; sales answer these individually.")
    return {"password": password, **counts}
