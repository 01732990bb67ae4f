"""Import and export from the console, with a preview of what an import will change before it is applied."""
from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from admin.blueprint import bp
from kb import io, storage
from kb.errors import KbError
from kb.workflow import Role, Status
from web.auth import role_required, signed_in_user
from web.i18n import gettext
from web.labels import N_

MAX_UPLOAD = 5 * 1024 * 1024
REVIEW_NOTE = N_("The imported versions wait in the review queue: another approver approves them.")


class UploadForm(FlaskForm):
    file = FileField("File", validators=[FileRequired()])
    approve = BooleanField("Send for approval")


class ApplyForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])


class ExportForm(FlaskForm):
    class Meta:
        csrf = False  # a download, no change

    format = SelectField("Format", choices=[SelectChoice(f) for f in io.FORMATS])


def _self_approval() -> bool:
    return bool(current_app.config["ALLOW_SELF_APPROVAL"]) and Role(signed_in_user().role).at_least(Role.APPROVER)


def _target(ticked: bool) -> Status:
    """Return where ticked or unticked rows land: approval by the importer alone only where self-approval is on."""
    if not ticked:
        return Status.DRAFT
    return Status.APPROVED if _self_approval() else Status.IN_REVIEW


def _staging(token: str) -> Path:
    if not token.isalnum():
        raise KbError("that import is no longer available; upload the file again")
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder / f"{token}.json"


@bp.route("/transfer", methods=["GET", "POST"])
@role_required(Role.EDITOR)
def transfer() -> Any:
    """Upload a file and see what it would change; export the knowledge base."""
    form, apply_form = UploadForm(), ApplyForm(prefix="apply")
    plan, error, token = None, None, None
    if request.method == "POST" and form.validate_on_submit():
        upload = form.file.data
        raw = upload.read(MAX_UPLOAD + 1)
        try:
            if len(raw) > MAX_UPLOAD:
                raise KbError("the file is larger than 5 MB")
            fmt = io.file_format(upload.filename or "")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise KbError("the file is not UTF-8 text") from None
            numbered = io.read_numbered(text, fmt)
            plan = io.preview(session=storage.session(), rows=[r for _, r in numbered],
                              numbers=[n for n, _ in numbered])
            target = _target(bool(form.approve.data))
            token = secrets.token_hex(16)
            path = _staging(token)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"rows": numbered, "target": target.value, "user": signed_in_user().id}, fh)
        except KbError as exc:
            error, plan = exc.message, None
    status = 422 if error or (request.method == "POST" and form.errors) else 200
    return render_template("admin/transfer.html", form=form, apply_form=apply_form, plan=plan, token=token,
                           error=error, export_form=ExportForm(), formats=io.FORMATS,
                           target=_target(bool(form.approve.data)), self_approval=_self_approval()), status


@bp.route("/transfer/apply", methods=["POST"])
@role_required(Role.EDITOR)
def transfer_apply() -> Any:
    """Apply a previewed import, all or nothing."""
    form = ApplyForm(prefix="apply")
    if not form.validate_on_submit():
        flash(gettext("The import form expired; upload the file again."), "error")
        return redirect(url_for("admin.transfer"))
    try:
        path = _staging(form.token.data)
        staged = json.loads(path.read_text(encoding="utf-8"))
        if staged["user"] != signed_in_user().id:
            raise KbError("that import was prepared by someone else")
        target = Status(staged.get("target", Status.DRAFT.value))
        counts = io.import_rows(session=storage.session(), rows=[r for _, r in staged["rows"]],
                                actor=signed_in_user(), target=target, via="console",
                                allow_self_approval=current_app.config["ALLOW_SELF_APPROVAL"],
                                numbers=[n for n, _ in staged["rows"]])
        path.unlink(missing_ok=True)
    except FileNotFoundError:
        flash(gettext("That import is no longer available; upload the file again."), "error")
    except KbError as exc:
        flash(gettext(exc.message), "error")
    else:
        flash(gettext("Imported: {created} created, {updated} updated, {unchanged} unchanged.", **counts), "ok")
        if target is Status.IN_REVIEW:
            flash(gettext(REVIEW_NOTE), "ok")
    return redirect(url_for("admin.transfer"))


@bp.route("/export")
@role_required(Role.EDITOR)
def export() -> Any:
    """Download the knowledge base in the chosen format."""
    fmt = request.args.get("format", "jsonl")
    if fmt not in io.FORMATS:
        fmt = "jsonl"
    body = io.write_rows(io.export_rows(session=storage.session()), fmt)
    mimetype = {"csv": "text/csv", "json": "application/json", "jsonl": "application/x-ndjson"}[fmt]
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f"attachment; filename=vetted-knowledge-base.{fmt}"})
