"""What happened to an entry: its audit trail, and word-level differences between two of its versions."""
from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kb.models import AuditEvent
from kb.service import get_entry, get_version, snapshot


def trail(*, session: Session, entry_id: int) -> list[AuditEvent]:
    """Return the audit trail of an entry, oldest first."""
    get_entry(session=session, entry_id=entry_id)
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entry_id == entry_id)
            .options(selectinload(AuditEvent.actor))
            .order_by(AuditEvent.id)
        )
    )


def word_diff(before: str, after: str) -> list[tuple[str, str]]:
    """Return [(op, text)] with op in equal/delete/insert, word by word."""
    a, b = before.split(), after.split()
    ops: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            ops.append(("equal", " ".join(a[i1:i2])))
        else:
            if i2 > i1:
                ops.append(("delete", " ".join(a[i1:i2])))
            if j2 > j1:
                ops.append(("insert", " ".join(b[j1:j2])))
    return ops


def diff(*, session: Session, version_a: int, version_b: int) -> dict[str, list[tuple[str, str]]]:
    """Return a word-level diff of every text field that differs between two versions."""
    a = get_version(session=session, version_id=version_a)
    b = get_version(session=session, version_id=version_b)
    sa, sb = snapshot(a), snapshot(b)
    out: dict[str, list[tuple[str, str]]] = {}
    for key in ("question", "answer", "alternates", "variants", "placeholders", "review_by"):
        left, right = _as_text(sa[key]), _as_text(sb[key])
        if left != right:
            out[key] = word_diff(left, right)
    return out


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n".join(value)
    if isinstance(value, Mapping):
        return "\n".join(f"{k}: {v}" for k, v in sorted(value.items()))
    return str(value)
