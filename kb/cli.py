"""Knowledge-base commands: `flask kb ...`, `flask users ...`, `flask apikeys ...`."""
from __future__ import annotations

import datetime
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from kb import accounts, backup, demo, io, owners, storage
from kb.errors import KbError
from kb.models import User
from kb.workflow import Role, Status

kb_cli = AppGroup("kb", help="Set up, load, import and export the knowledge base.")
users_cli = AppGroup("users", help="Manage console users.")
apikeys_cli = AppGroup("apikeys", help="Manage API keys for the suggest API and the browser extension.")


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn domain and database errors into one readable line and a non-zero exit."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except KbError as exc:
            raise click.ClickException(exc.message) from None
        except OperationalError as exc:
            reason = str(exc.orig).splitlines()[0] if exc.orig else str(exc).splitlines()[0]
            raise click.ClickException(f"database error: {reason} (did you run `flask kb init`?)") from None

    return wrapper


@contextmanager
def progress_bar(length: int, label: str) -> Iterator[Callable[[int], None]]:
    """Yield a callback that moves a progress bar to a given count."""
    with click.progressbar(length=length, label=label, file=sys.stderr) as bar:
        state = {"done": 0}

        def advance(done: int) -> None:
            bar.update(done - state["done"])
            state["done"] = done

        yield advance


def require_migrated() -> None:
    """Stop with one line if the database is not at the code's schema."""
    if not storage.is_migrated(storage.database().engine):
        raise click.ClickException("the database is not set up; run `flask kb init` first")


def _actor(username: str | None) -> User:
    s = storage.session()
    if username:
        return accounts.get_by_username(session=s, username=username)
    admin = s.scalar(select(User).where(User.role == Role.ADMIN.value, User.active.is_(True)).order_by(User.id))
    if admin is None:
        raise click.ClickException("no admin user yet; create one with `flask users create NAME --role admin`")
    return admin


@kb_cli.command("init")
@friendly
def init_command() -> None:
    """Create or upgrade the database schema and add the default departments and categories."""
    storage.migrate(storage.database().url)
    added = owners.ensure_defaults(session=storage.session())
    from kb import redflags

    rules = redflags.ensure_default_rules(session=storage.session())
    click.echo(f"Database ready at the newest schema ({added} default owners and categories, {rules} red-flag "
               "rules added).")


@kb_cli.command("demo")
@friendly
def demo_command() -> None:
    """Load the demo knowledge base (English and Hebrew) and demo users."""
    require_migrated()
    from kb import redflags

    redflags.ensure_default_rules(session=storage.session())
    total = len(demo.demo_rows(datetime.date.today()))
    with progress_bar(total, "Loading demo entries") as advance:
        result = demo.load(session=storage.session(), progress=advance)
    click.echo(f"Demo knowledge base: {result['created']} entries created, {result['unchanged']} already there.")
    saved = Path(current_app.instance_path) / "demo_password"
    if result["password"]:
        fd = os.open(saved, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(str(result["password"]))
    if saved.exists():
        click.echo(f"Demo users admin, approver, editor and agent share the password: {saved.read_text().strip()}")


@kb_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--approve-as", "approve_as", metavar="USERNAME", help="Import as approved by this approver.")
@click.option("--as", "as_user", metavar="USERNAME", help="Import drafts as this editor (default: first admin).")
@friendly
def import_command(path: Path, approve_as: str | None, as_user: str | None) -> None:
    """Import entries from a CSV, JSON or JSONL file; a bad row stops it and nothing is written."""
    require_migrated()
    fmt = io.file_format(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise click.ClickException(f"{path} is not UTF-8 text") from None
    numbered = io.read_numbered(text, fmt)
    actor = _actor(approve_as or as_user)
    with progress_bar(len(numbered), f"Importing {path.name}") as advance:
        # --approve-as is the operator's migration path: approved in that approver's name without a second
        # person, through the workflow, and audited as an operator migration.
        counts = io.import_rows(session=storage.session(), rows=[r for _, r in numbered], actor=actor,
                                target=Status.APPROVED if approve_as else Status.DRAFT,
                                allow_self_approval=bool(approve_as), via="cli", progress=advance,
                                numbers=[n for n, _ in numbered])
    state = "approved" if approve_as else "drafts"
    click.echo(f"Imported {path.name} as {state}: {counts['created']} created, {counts['updated']} updated, "
               f"{counts['unchanged']} unchanged.")


@kb_cli.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@friendly
def export_command(path: Path) -> None:
    """Export every entry (its approved version, else its latest) to a CSV, JSON or JSONL file."""
    require_migrated()
    fmt = io.file_format(path)
    rows = list(io.export_rows(session=storage.session()))
    path.write_text(io.write_rows(rows, fmt), encoding="utf-8")
    click.echo(f"Exported {len(rows)} entries to {path}.")


@kb_cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@friendly
def backup_command(path: Path) -> None:
    """Write the whole knowledge base, audit log included, to a gzipped JSON file."""
    require_migrated()
    counts = backup.backup(storage.database().engine, path)
    click.echo(f"Backed up {sum(counts.values())} rows from {len(counts)} tables to {path}.")


@kb_cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@friendly
def restore_command(path: Path) -> None:
    """Load a backup into an empty, initialised database (all or nothing)."""
    require_migrated()
    counts = backup.restore(storage.database().engine, path)
    click.echo(f"Restored {sum(counts.values())} rows into {len(counts)} tables from {path}.")


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--name", "display_name", default="", help="Display name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@friendly
def create_user_command(username: str, role: str, display_name: str, password_stdin: bool) -> None:
    """Create a console user."""
    require_migrated()
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = accounts.create_user(session=storage.session(), username=username, password=password, role=role,
                                display_name=display_name)
    click.echo(f"Created {user.role} {user.username}.")


@users_cli.command("password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@friendly
def password_command(username: str, password_stdin: bool) -> None:
    """Set a user's password; every session they have open ends."""
    require_migrated()
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    s = storage.session()
    user = accounts.get_by_username(session=s, username=username)
    accounts.set_password(session=s, user_id=user.id, password=password)
    click.echo(f"Password of {user.username} changed; their sessions have ended.")


@apikeys_cli.command("create")
@click.option("--user", "username", required=True, help="The user the key acts for.")
@click.option("--scope", "scopes", multiple=True, required=True,
              type=click.Choice(list(accounts.SCOPES)), help="Repeat for several scopes.")
@click.option("--name", default="", help="What the key is for.")
@friendly
def create_key_command(username: str, scopes: tuple[str, ...], name: str) -> None:
    """Create an API key and print it once."""
    require_migrated()
    s = storage.session()
    user = accounts.get_by_username(session=s, username=username)
    key, raw = accounts.create_api_key(session=s, user=user, scopes=list(scopes), name=name)
    click.echo(f"API key {key.id} for {user.username} ({', '.join(key.scopes)}). Shown only now:", err=True)
    click.echo(raw)


@apikeys_cli.command("revoke")
@click.argument("key_id", type=int)
@friendly
def revoke_key_command(key_id: int) -> None:
    """Revoke an API key."""
    require_migrated()
    accounts.revoke_api_key(session=storage.session(), key_id=key_id)
    click.echo(f"API key {key_id} revoked.")


@apikeys_cli.command("list")
@friendly
def list_keys_command() -> None:
    """List API keys (never their secrets)."""
    require_migrated()
    for key in accounts.list_api_keys(session=storage.session()):
        state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
        used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
        click.echo(f"{key.id}\t{key.user.username}\t{','.join(key.scopes)}\t{state}\tlast used {used}\t{key.name}")


def register(app: Flask) -> None:
    """Add the commands to the app's CLI."""
    app.cli.add_command(kb_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(apikeys_cli)
