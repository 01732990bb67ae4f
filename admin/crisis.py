"""Console pages for what must not be answered from the library: crisis mode, red-flag rules, response times."""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from admin import charts
from admin.blueprint import bp
from kb import crises, owners, redflags, storage
from kb.errors import KbError
from kb.models import RedFlagRule, utcnow
from kb.workflow import Role
from suggest.escalation import notify
from suggest.escalation import response_times as sla
from web.auth import current_user, role_required, signed_in_user


class CrisisForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    holding_statement = TextAreaField("Holding statement", validators=[DataRequired(), Length(max=2000)])
    category = SelectField("Category", choices=[], validators=[Optional()])
    entry_ids = StringField("Entries (numbers, comma-separated)", validators=[Optional(), Length(max=500)])
    pattern = StringField("Pattern (regular expression)", validators=[Optional(), Length(max=500)])


class EndForm(FlaskForm):
    crisis_id = IntegerField(validators=[DataRequired()])


class RuleForm(FlaskForm):
    rule_id = IntegerField(validators=[Optional()])
    row_version = IntegerField(validators=[Optional()])
    kind = SelectField("Kind", choices=[SelectChoice(k) for k in redflags.KINDS])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    lang = SelectField("Language", choices=[SelectChoice("he"), SelectChoice("en"), SelectChoice("ar"),
                                            SelectChoice("ru")])
    keywords = TextAreaField("Keywords (one per line)", validators=[Optional()])
    patterns = TextAreaField("Patterns (one per line)", validators=[Optional()])
    department = SelectField("Department", choices=[], validators=[Optional()])
    holding_statement = TextAreaField("Holding statement", validators=[DataRequired(), Length(max=2000)])
    severity = IntegerField("Severity (1-5)", validators=[DataRequired(), NumberRange(1, 5)])
    active = BooleanField("Active", default=True)


class NotifierForm(FlaskForm):
    department = SelectField("Department", choices=[], validators=[DataRequired()])
    kind = SelectField("How", choices=[SelectChoice(k) for k in notify.KINDS])
    target = StringField("Address", validators=[DataRequired(), Length(max=500)])
    secret = StringField("Webhook secret", validators=[Optional(), Length(max=200)])


class ResolveForm(FlaskForm):
    inquiry_id = IntegerField(validators=[DataRequired()])


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


@bp.route("/crisis", methods=["GET", "POST"])
@role_required(Role.EDITOR)
def crisis() -> Any:
    """Start and end crisis mode for a topic (approvers); everyone in the office sees what is in force."""
    s = storage.session()
    form, end_form = CrisisForm(prefix="crisis"), EndForm(prefix="end")
    form.category.choices = [SelectChoice("", "-")] + [SelectChoice(c.slug, c.name)
                                                        for c in owners.list_categories(session=s)]
    status = 200
    if request.method == "POST":
        try:
            if request.form.get("action") == "start" and form.validate_on_submit():
                ids = [int(i) for i in (form.entry_ids.data or "").replace(" ", "").split(",") if i.isdigit()]
                crises.start(session=s, actor=signed_in_user(), name=form.name.data,
                             holding_statement=form.holding_statement.data, category=form.category.data or None,
                             entry_ids=ids, pattern=form.pattern.data or "")
                flash("Crisis mode is on: matching questions now get the holding statement.", "ok")
                return redirect(url_for("admin.crisis"))
            if request.form.get("action") == "end" and end_form.validate_on_submit():
                crises.end(session=s, actor=signed_in_user(), crisis_id=end_form.crisis_id.data)
                flash("Crisis mode is off.", "ok")
                return redirect(url_for("admin.crisis"))
            status = 422
        except KbError as exc:
            s.rollback()
            form.form_errors.append(exc.message)
            status = exc.status
    return render_template("admin/crisis.html", form=form, end_form=end_form,
                           crises=crises.list_all(session=s)), status


@bp.route("/red-flags", methods=["GET", "POST"])
@role_required(Role.EDITOR)
def red_flags() -> Any:
    """The red-flag rules (approvers edit them), and where each department is notified."""
    s = storage.session()
    form, notifier_form = RuleForm(prefix="rule"), NotifierForm(prefix="notifier")
    depts = [SelectChoice(d.slug, d.name) for d in owners.list_departments(session=s)]
    form.department.choices = [SelectChoice("", "-")] + depts
    notifier_form.department.choices = depts
    status = 200
    if request.method == "POST":
        if not Role(signed_in_user().role).at_least(Role.APPROVER):
            return render_template("error.html", status=403, title="Forbidden",
                                   message="Red-flag rules are changed by approvers."), 403
        try:
            if request.form.get("action") == "rule" and form.validate_on_submit():
                redflags.save_rule(session=s, actor=signed_in_user(), rule_id=form.rule_id.data,
                                row_version=form.row_version.data, kind=form.kind.data, name=form.name.data,
                                lang=form.lang.data, keywords=_lines(form.keywords.data),
                                patterns=_lines(form.patterns.data), department=form.department.data or None,
                                holding_statement=form.holding_statement.data, severity=form.severity.data,
                                active=form.active.data)
                flash("Rule saved; it applies to the next question.", "ok")
                return redirect(url_for("admin.red_flags"))
            if request.form.get("action") == "notifier" and notifier_form.validate_on_submit():
                notify.add_notifier(session=s, department=notifier_form.department.data,
                                    kind=notifier_form.kind.data, target=notifier_form.target.data,
                                    secret=notifier_form.secret.data or "")
                flash("Notifier added.", "ok")
                return redirect(url_for("admin.red_flags"))
            status = 422
        except KbError as exc:
            s.rollback()
            form.form_errors.append(exc.message)
            status = exc.status
    rules = list(s.scalars(select(RedFlagRule).order_by(RedFlagRule.kind, RedFlagRule.lang)))
    return render_template("admin/red_flags.html", rules=rules, form=form, notifier_form=notifier_form,
                           notifiers=notify.list_notifiers(session=s)), status


@bp.route("/response-times", methods=["GET", "POST"])
@role_required(Role.EDITOR)
def response_times() -> Any:
    """Who owes an answer by when, what is overdue, and each department's record over 30 days."""
    s = storage.session()
    form = ResolveForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            sla.resolve(session=s, inquiry_id=form.inquiry_id.data, user=signed_in_user())
        except KbError as exc:
            flash(exc.message, "error")
        return redirect(url_for("admin.response_times"))
    now = utcnow()
    report = sla.report(session=s, since=now - dt.timedelta(days=30), now=now)
    chart = charts.stacked_bars([r.department for r in report],
                                {"met": [r.met for r in report], "missed": [r.missed for r in report],
                                 "open": [r.open for r in report]}, title="Response times per department")
    return render_template("admin/response_times.html", owed=sla.owed(session=s, now=now), now=now,
                           report=report, chart=chart, form=form,
                           departments={d.id: d.name for d in owners.list_departments(session=s)})


@bp.app_context_processor
def inject_crises() -> dict[str, Any]:
    """Show every signed-in page the crises in force, so nobody answers a crisis topic from the library."""
    if current_user() is None:
        return {"active_crises": []}
    return {"active_crises": crises.list_active(session=storage.session())}
