"""The `flask kb`, `flask users` and `flask apikeys` commands through the click runner."""
from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from kb import accounts, listing, storage, suggestable
from kb.models import ApiKey, Entry, User


def test_init_migrates_an_empty_database_and_adds_defaults(tmp_path: Path) -> None:
    from app import create_app

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}", "SECRET_KEY": "t", "ENCODER": "fake",
                      "INSTANCE_PATH": str(tmp_path / "instance")})
    assert not storage.is_migrated(storage.database(app).engine)
    result = app.test_cli_runner().invoke(args=["kb", "init"])
    assert result.exit_code == 0, result.output
    assert "newest schema" in result.output
    assert storage.is_migrated(storage.database(app).engine)
    again = app.test_cli_runner().invoke(args=["kb", "init"])
    assert again.exit_code == 0 and "0 default owners" in again.output


def test_commands_on_an_unmigrated_database_say_what_to_run(tmp_path: Path) -> None:
    from app import create_app

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}", "SECRET_KEY": "t", "ENCODER": "fake",
                      "INSTANCE_PATH": str(tmp_path / "instance")})
    result = app.test_cli_runner().invoke(args=["kb", "demo"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == "Error: the database is not set up; run `flask kb init` first"


def test_the_app_refuses_to_serve_an_unmigrated_database(tmp_path: Path) -> None:
    from app import create_app

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}", "SECRET_KEY": "t", "ENCODER": "fake",
                      "INSTANCE_PATH": str(tmp_path / "instance")})
    response = app.test_client().get("/login")
    assert response.status_code == 503
    assert response.get_data(as_text=True).strip() == (
        "The database is not set up for this version: run `flask kb init`."
    )


def test_demo_loads_both_languages_with_the_whole_lifecycle(tmp_path: Path) -> None:
    from app import create_app

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}", "SECRET_KEY": "t", "ENCODER": "fake",
                      "INSTANCE_PATH": str(tmp_path / "instance")})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["kb", "init"]).exit_code == 0
    result = runner.invoke(args=["kb", "demo"])
    ctx = app.app_context()
    ctx.push()
    session = storage.session()
    assert result.exit_code == 0, result.output
    assert "share the password: " in result.output
    approved = suggestable.list_suggestable(session=session)
    langs = [v.entry.lang for v in approved]
    assert langs.count("en") >= 30 and langs.count("he") >= 30
    counts = listing.status_counts(session=session)
    assert counts.get("in_review") == 1 and counts.get("retired") == 1
    assert any(v.variants.get("x") for v in approved)
    password = result.output.split("share the password: ")[1].split()[0]
    assert accounts.authenticate(session=session, username="admin", password=password).role == "admin"
    rerun = runner.invoke(args=["kb", "demo"])
    assert rerun.exit_code == 0 and "0 entries created" in rerun.output and password in rerun.output
    ctx.pop()
    storage.database(app).engine.dispose()


def test_import_eval_format_as_approved_then_export(app, runner, session, tmp_path: Path) -> None:
    rows = [
        {"id": "q1", "question": "How do I pay?", "answer": "In the app.", "lang": "en",
         "alternates": ["payment options"], "category": "billing"},
        {"id": "q2", "question": "מתי החיוב?", "answer": "ב-10 לחודש.", "lang": "he"},
    ]
    src = tmp_path / "faq.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    result = runner.invoke(args=["kb", "import", str(src), "--approve-as", "approver"])
    assert result.exit_code == 0, result.output
    assert "2 created" in result.output
    assert len(suggestable.list_suggestable(session=session)) == 2
    out = tmp_path / "out.jsonl"
    assert runner.invoke(args=["kb", "export", str(out)]).exit_code == 0
    exported = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["id"], r["alternates"], r["category"], r["lang"], r["status"]) for r in exported] == [
        ("q1", ["payment options"], "billing", "en", "approved"), ("q2", [], None, "he", "approved")]


def test_bad_import_exits_nonzero_with_the_row_and_writes_nothing(app, runner, session, tmp_path: Path) -> None:
    src = tmp_path / "bad.csv"
    src.write_text("id,question,answer,lang\na,Q?,A.,en\nb,,A.,en\n", encoding="utf-8")
    result = runner.invoke(args=["kb", "import", str(src), "--approve-as", "approver"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == "Error: row 3: missing question"
    assert session.scalar(select(Entry.id)) is None


def test_import_rejects_unknown_users_and_types(app, runner, tmp_path: Path) -> None:
    src = tmp_path / "faq.txt"
    src.write_text("x", encoding="utf-8")
    result = runner.invoke(args=["kb", "import", str(src)])
    assert result.exit_code == 1 and "unknown file type .txt" in result.output
    good = tmp_path / "faq.jsonl"
    good.write_text('{"question": "Q?", "answer": "A.", "lang": "en"}\n', encoding="utf-8")
    result = runner.invoke(args=["kb", "import", str(good), "--approve-as", "nobody"])
    assert result.exit_code == 1 and "no user 'nobody'" in result.output
    binary = tmp_path / "bin.jsonl"
    binary.write_bytes(b"\xff\xfe\x00bad")
    result = runner.invoke(args=["kb", "import", str(binary)])
    assert result.exit_code == 1 and "not UTF-8" in result.output


def test_users_create_reads_the_password_from_stdin(app, runner, session) -> None:
    result = runner.invoke(args=["users", "create", "dana", "--role", "editor", "--password-stdin"],
                           input="a long enough password\n")
    assert result.exit_code == 0, result.output
    user = session.scalar(select(User).where(User.username == "dana"))
    assert user.role == "editor" and user.password_hash != "a long enough password"
    assert accounts.authenticate(session=session, username="dana", password="a long enough password")
    short = runner.invoke(args=["users", "create", "eli", "--role", "agent", "--password-stdin"], input="short\n")
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    dup = runner.invoke(args=["users", "create", "dana", "--role", "agent", "--password-stdin"],
                        input="a long enough password\n")
    assert dup.exit_code == 1 and "exists already" in dup.output


def test_apikeys_create_prints_once_and_revoke_stops_it(app, runner, session) -> None:
    result = runner.invoke(args=["apikeys", "create", "--user", "agent", "--scope", "suggest", "--scope", "feedback"])
    assert result.exit_code == 0, result.output
    raw = result.output.strip().splitlines()[-1]
    assert raw.startswith("vt_")
    key = session.scalar(select(ApiKey))
    assert key.key_hash != raw and raw not in key.key_hash and key.scopes == ["feedback", "suggest"]
    assert accounts.verify_api_key(session=session, raw=raw).id == key.id
    listing = runner.invoke(args=["apikeys", "list"])
    assert raw not in listing.output and "active" in listing.output
    assert runner.invoke(args=["apikeys", "revoke", str(key.id)]).exit_code == 0
    session.expire_all()
    assert accounts.verify_api_key(session=session, raw=raw) is None
    missing = runner.invoke(args=["apikeys", "revoke", "999"])
    assert missing.exit_code == 1 and "no API key 999" in missing.output
