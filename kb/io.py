"""Import and export of the knowledge base as CSV, JSON or JSONL (the evaluation format plus optional columns)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kb import audit, content
from kb.audit import AuditAction
from kb.errors import ImportFailed, KbError, PermissionDenied, ValidationFailed
from kb.models import Entry, EntryVersion, User
from kb.service import Draft, apply_entry_fields, new_version, snapshot, stage_move
from kb.storage import use_case
from kb.workflow import Action, Role, Status, transition

FORMATS = ("csv", "json", "jsonl")
FIELDS = ("id", "question", "answer", "lang", "alternates", "category", "department", "tags", "variants",
          "placeholders", "review_by", "status")
_LIST_FIELDS = ("alternates", "tags", "placeholders")
IMPORT_TARGETS = (Status.DRAFT, Status.IN_REVIEW, Status.APPROVED)
Progress = Callable[[int], None]


def file_format(path: str | Path) -> str:
    """Return the format named by a file's extension, or raise for an unknown one."""
    ext = Path(path).suffix.lower().lstrip(".")
    if ext not in FORMATS:
        raise ValidationFailed(f"unknown file type .{ext}; use .csv, .json or .jsonl")
    return ext


def read_rows(text: str, fmt: str) -> list[dict[str, Any]]:
    """Parse an import file into raw rows; a malformed file raises ImportFailed with the row number."""
    return [row for _, row in read_numbered(text, fmt)]


def read_numbered(text: str, fmt: str) -> list[tuple[int, dict[str, Any]]]:
    """Parse an import file into (row number as the user sees it, raw row): a line, or an entry of a list."""
    if fmt == "jsonl":
        rows = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ImportFailed(number, f"not valid JSON ({exc.msg})") from None
            rows.append((number, _require_object(row, number)))
        return rows
    if fmt == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ImportFailed(exc.lineno, f"not valid JSON ({exc.msg})") from None
        if isinstance(data, dict) and isinstance(data.get("entries"), list):
            data = data["entries"]
        if not isinstance(data, list):
            raise ImportFailed(1, "a JSON file must hold a list of entries")
        return [(n, _require_object(row, n)) for n, row in enumerate(data, start=1)]
    reader = csv.DictReader(io.StringIO(text))
    rows = []
    for number, row in enumerate(reader, start=2):  # line 1 is the header
        if None in row:
            raise ImportFailed(number, "more cells than header columns")
        rows.append((number, _from_csv(row, number)))
    return rows


def _require_object(row: Any, number: int) -> dict[str, Any]:
    if not isinstance(row, dict):
        raise ImportFailed(number, "each entry must be a JSON object")
    return row


def _from_csv(row: dict[str, str], number: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    variants: dict[str, str] = {}
    for key, value in row.items():
        value = _uncell(value or "")
        if key.startswith("variant_"):
            if value:
                variants[key.removeprefix("variant_")] = value
        elif key in _LIST_FIELDS:
            if value.startswith("["):
                try:
                    out[key] = json.loads(value)
                except json.JSONDecodeError:
                    raise ImportFailed(number, f"{key} is not a valid JSON list") from None
            else:
                out[key] = [part.strip() for part in value.split("|") if part.strip()]
        elif value != "":
            out[key] = value
    if variants:
        out["variants"] = variants
    return out


def _text(row: dict[str, Any], key: str, number: int, required: bool = False) -> str | None:
    value = row.get(key)
    if value is None or value == "":
        if required:
            raise ImportFailed(number, f"missing {key}")
        return None
    if not isinstance(value, str):
        raise ImportFailed(number, f"{key} must be text")
    return value


def _strings(row: dict[str, Any], key: str, number: int) -> list[str]:
    value = row.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ImportFailed(number, f"{key} must be a list of text")
    return value


def parse_row(row: dict[str, Any], number: int) -> tuple[str | None, Draft]:
    """Turn a raw row into (external id, draft), or raise ImportFailed saying what is wrong."""
    external_id = row.get("id")
    if external_id is not None and not isinstance(external_id, (str, int)):
        raise ImportFailed(number, "id must be text or a number")
    variants = row.get("variants") or {}
    if not isinstance(variants, dict) or not all(isinstance(v, str) for v in variants.values()):
        raise ImportFailed(number, "variants must map channel names to text")
    review_by = _text(row, "review_by", number)
    try:
        review_date = dt.date.fromisoformat(review_by) if review_by else None
    except ValueError:
        raise ImportFailed(number, f"review_by {review_by!r} is not a date (YYYY-MM-DD)") from None
    draft = Draft(
        question=_text(row, "question", number, required=True) or "",
        answer=_text(row, "answer", number, required=True) or "",
        lang=_text(row, "lang", number, required=True) or "",
        alternates=_strings(row, "alternates", number),
        variants=dict(variants),
        placeholders=_strings(row, "placeholders", number),
        review_by=review_date,
        category=_text(row, "category", number),
        department=_text(row, "department", number),
        tags=_strings(row, "tags", number),
    )
    try:
        return (str(external_id) if external_id is not None else None), draft.cleaned()
    except KbError as exc:
        raise ImportFailed(number, exc.message) from None


def parse_rows(rows: list[dict[str, Any]], numbers: list[int] | None = None) -> list[tuple[int, str | None, Draft]]:
    """Parse every row into (row number, external id, draft); a bad row or a repeated id raises ImportFailed."""
    parsed: list[tuple[int, str | None, Draft]] = []
    seen: set[str] = set()
    for index, row in enumerate(rows):
        number = numbers[index] if numbers else index + 1
        external_id, draft = parse_row(row, number)
        if external_id is not None:
            if external_id in seen:
                raise ImportFailed(number, f"id {external_id!r} appears twice")
            seen.add(external_id)
        parsed.append((number, external_id, draft))
    return parsed


def _existing(session: Session, external_id: str | None, draft: Draft) -> tuple[Entry | None, str]:
    """Return the entry an imported row lands on, if any, and whether the row creates, updates or leaves it."""
    if external_id is None:
        return None, "created"
    entry = session.scalar(select(Entry).where(Entry.external_id == external_id)
                           .options(selectinload(Entry.versions)))
    if entry is None:
        return None, "created"
    current = entry.approved_version or (entry.versions[-1] if entry.versions else None)
    return entry, "unchanged" if current is not None and _same(current, entry, draft) else "updated"


@use_case
def import_rows(
    *,
    session: Session,
    rows: list[dict[str, Any]],
    actor: User,
    target: Status = Status.DRAFT,
    allow_self_approval: bool = False,
    via: str = "console",
    progress: Progress | None = None,
    numbers: list[int] | None = None,
) -> dict[str, int]:
    """Import every row or none, as drafts, in review or approved; the importer is each version's author."""
    role = Role(actor.role)
    if target not in IMPORT_TARGETS:
        raise ValidationFailed(f"an import lands as {', '.join(s.value for s in IMPORT_TARGETS)}")
    if not role.at_least(Role.EDITOR):
        raise PermissionDenied(f"{actor.username} is {actor.role}; importing needs an editor")
    if target is Status.APPROVED:
        # The importer wrote every row, so approving them is self-approval: refused unless allowed.
        try:
            transition(Action.APPROVE, status=Status.IN_REVIEW, role=role, is_author=True,
                       allow_self_approval=allow_self_approval)
        except PermissionDenied as exc:
            raise PermissionDenied(f"importing as approved: {exc.message}") from None
    parsed = parse_rows(rows, numbers)
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for done, (number, external_id, draft) in enumerate(parsed, start=1):
        try:
            counts[_import_one(session, actor=actor, external_id=external_id, draft=draft, target=target,
                               via=via)] += 1
        except KbError as exc:
            raise ImportFailed(number, exc.message) from None
        if progress:
            progress(done)
    comment = ("operator migration: approved in the importer's name without a second approver"
               if target is Status.APPROVED else "")
    audit.record(session, actor=actor, action=AuditAction.IMPORT, comment=comment,
                 after={**counts, "status": target.value, "via": via, "author": actor.username})
    session.commit()
    return counts


def _import_one(
    session: Session, *, actor: User, external_id: str | None, draft: Draft, target: Status, via: str,
) -> str:
    entry, outcome = _existing(session, external_id, draft)
    if outcome == "unchanged":
        return outcome
    if entry is None:
        entry = Entry(lang=draft.lang, external_id=external_id, tags=[])
        session.add(entry)
        number = 1
    else:
        number = max((v.number for v in entry.versions), default=0) + 1
    apply_entry_fields(session, entry, draft)
    version = new_version(entry, draft, number=number, author=actor)
    session.add(version)
    session.flush()
    audit.record(session, actor=actor, action=AuditAction.IMPORT, version=version,
                 after={**snapshot(version), "author": actor.username, "via": via})
    if target in (Status.IN_REVIEW, Status.APPROVED):
        stage_move(session, actor=actor, action=Action.SUBMIT, version=version)
    if target is Status.APPROVED:
        stage_move(session, actor=actor, action=Action.APPROVE, version=version, allow_self_approval=True)
    return outcome


def _same(version: EntryVersion, entry: Entry, draft: Draft) -> bool:
    current = snapshot(version)
    wanted = {
        "question": draft.question, "alternates": draft.alternates, "answer": draft.answer,
        "variants": draft.variants, "placeholders": draft.placeholders,
        "review_by": draft.review_by.isoformat() if draft.review_by else None, "lang": draft.lang,
        "category": draft.category, "tags": draft.tags,
    }
    return all(current[k] == v for k, v in wanted.items())


def preview(*, session: Session, rows: list[dict[str, Any]], numbers: list[int] | None = None
            ) -> list[dict[str, Any]]:
    """Say what importing the rows would do, row by row, without writing; a bad row raises ImportFailed."""
    plan = []
    for number, external_id, draft in parse_rows(rows, numbers):
        action = {"created": "create", "updated": "update", "unchanged": "unchanged"}[
            _existing(session, external_id, draft)[1]]
        plan.append({"row": number, "id": external_id, "action": action, "question": draft.question,
                     "lang": draft.lang})
    return plan


def export_rows(*, session: Session) -> Iterator[dict[str, Any]]:
    """Yield each entry's approved version, or its latest where none is approved, in import format."""
    entries = session.scalars(
        select(Entry)
        .options(selectinload(Entry.versions), selectinload(Entry.category), selectinload(Entry.department))
        .order_by(Entry.id)
    )
    for entry in entries:
        version = entry.approved_version or (entry.versions[-1] if entry.versions else None)
        if version is None:
            continue
        snap = snapshot(version)
        yield {
            "id": entry.external_id or f"entry-{entry.id}",
            "question": snap["question"],
            "answer": snap["answer"],
            "lang": snap["lang"],
            "alternates": snap["alternates"],
            "category": snap["category"],
            "department": snap["department"],
            "tags": snap["tags"],
            "variants": snap["variants"],
            "placeholders": snap["placeholders"],
            "review_by": snap["review_by"],
            "status": snap["status"],
        }


def write_rows(rows: Iterable[dict[str, Any]], fmt: str) -> str:
    """Serialise exported rows in the given format."""
    rows = list(rows)
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows)
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    buf = io.StringIO()
    variant_cols = [f"variant_{c}" for c in content.CHANNELS]
    writer = csv.DictWriter(buf, fieldnames=[f for f in FIELDS if f != "variants"] + variant_cols)
    writer.writeheader()
    for row in rows:
        flat = {k: v for k, v in row.items() if k != "variants"}
        for key in _LIST_FIELDS:
            flat[key] = json.dumps(flat[key], ensure_ascii=False) if flat[key] else ""
        for channel, text in row["variants"].items():
            flat[f"variant_{channel}"] = text
        writer.writerow({k: ("" if v is None else _cell(v)) for k, v in flat.items()})
    return buf.getvalue()


# A spreadsheet runs a cell that starts with one of these as a formula (=HYPERLINK(...) sends data away).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """Make a CSV cell inert in spreadsheets: a leading quote marks it as text, as they expect."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _uncell(value: str) -> str:
    """Undo _cell, so that an exported file imports back to the same text."""
    if value.startswith("'") and value[1:].startswith(_FORMULA_START):
        return value[1:]
    return value
