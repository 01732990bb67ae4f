"""Console pages for what must not be answered from the library: crisis mode, red-flag rules, response times."""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from admin import charts
from admin.blueprint import bp
from kb import crises, listing, owners, redflags, storage
from kb.errors import KbError
from kb.models import utcnow
from kb.workflow import Role
from suggest.escalation import notify
from suggest.escalation import response_times as sla
from suggest.escalation.webhook import TargetPolicy
from web.auth import current_user, role_required, signed_in_user
from web.i18n import gettext as _
from web.i18n import named


class CrisisForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    holding_he = TextAreaField("Holding statement in Hebrew", validators=[Optional(), Length(max=2000)])
    holding_en = TextAreaField("Holding statement in English", validators=[Optional(), Length(max=2000)])
    holding_ar = TextAreaField("Holding statement in Arabic", validators=[Optional(), Length(max=2000)])
    holding_ru = TextAreaField("Holding statement in Russian", validators=[Optional(), Length(max=2000)])
    categories = SelectMultipleField("Categories", choices=[], validators=[Optional()])
    entries = SelectMultipleField("Entries", choices=[], coerce=int, validate_choice=False, validators=[Optional()])
    keywords = TextAreaField("Words and phrases in the message (one per line)",
                             validators=[Optional(), Length(max=4000)])
    pattern = StringField("Regular expression", validators=[Optional(), Length(max=500)])

    def statements(self) -> dict[str, str]:
        """Return the holding statements given, by language."""
        return {lang: getattr(self, f"holding_{lang}").data or "" for lang in ("he", "en", "ar", "ru")}


class EndForm(FlaskForm):
    crisis_id = IntegerField(validators=[DataRequired()])


class RuleActionForm(FlaskForm):
    rule_id = IntegerField(validators=[DataRequired()])
    row_version = IntegerField(validators=[Optional()])


class RuleForm(FlaskForm):
    rule_id = IntegerField(validators=[Optional()])
    row_version = IntegerField(validators=[Optional()])
    kind = SelectField("Kind", choices=[SelectChoice(k) for k in redflags.KINDS])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    lang = SelectField("Language", choices=[SelectChoice("he"), SelectChoice("en"), SelectChoice("ar"),
                                            SelectChoice("ru")])
    keywords = TextAreaField("Words and phrases (one per line)", validators=[Optional()])
    patterns = TextAreaField("Regular expressions (one per line)", validators=[Optional()])
    department = SelectField("Department", choices=[], validators=[Optional()])
    holding_statement = TextAreaField("Holding statement", validators=[DataRequired(), Length(max=2000)])
    severity = IntegerField("Severity (1-5)", validators=[DataRequired(), NumberRange(1, 5)])
    active = BooleanField("Active", default=True)


class NotifierForm(FlaskForm):
    department = SelectField("Department", choices=[], validators=[DataRequired()])
    kind = SelectField("How", choices=[SelectChoice(k) for k in notify.KINDS])
    target = StringField("Address", validators=[DataRequired(), Length(max=500)])
    # A password field is never written back into the page, even when the form comes back with an error.
    secret = PasswordField("Webhook secret", validators=[Optional(), Length(max=200)])


class RemoveNotifierForm(FlaskForm):
    notifier_id = IntegerField(validators=[DataRequired()])


class ResolveForm(FlaskForm):
    inquiry_id = IntegerField(validators=[DataRequired()])
    step = SelectField(choices=[SelectChoice("take"), SelectChoice("resolve")], default="resolve")


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


@bp.route("/crisis", methods=["GET", "POST"])
@role_required(Role.EDITOR)
def crisis() -> Any:
    """Start and end crisis mode for a topic (approvers); everyone in the office sees what is in force."""
    s = storage.session()
    form, end_form = CrisisForm(prefix="crisis"), EndForm(prefix="end")
    form.categories.choices = [SelectChoice(c.slug, c.name) for c in owners.list_categories(session=s)]
    find = (request.args.get("find") or "").strip()[:200]
    found = listing.list_entries(session=s, filters=listing.EntryFilter(search=find), limit=20)[0] if find else []
    form.entries.choices = [SelectChoice(e.id, e.versions[-1].question) for e in found]
    status = 200
    if request.method == "POST":
        try:
            if request.form.get("action") == "start" and form.validate_on_submit():
                crises.start(session=s, actor=signed_in_user(), name=form.name.data,
                             holding_statements=form.statements(),
                             categories=form.categories.data or [], entry_ids=form.entries.data or [],
                             keywords=_lines(form.keywords.data), pattern=form.pattern.data or "")
                flash(_("Crisis mode is on: matching questions now get the holding statement."), "ok")
                return redirect(url_for("admin.crisis"))
            if request.form.get("action") == "end" and end_form.validate_on_submit():
                crises.end(session=s, actor=signed_in_user(), crisis_id=end_form.crisis_id.data)
                flash(_("Crisis mode is off."), "ok")
                return redirect(url_for("admin.crisis"))
            status = 422
        except KbError as exc:
            form.form_errors.append(exc.message)
            status = exc.status
    return render_template("admin/crisis.html", form=form, end_form=end_form, find=find, found=found,
                           crises=crises.list_all(session=s)), status


@bp.route("/red-flags", methods=["GET", "POST"])
@role_required(Role.EDITOR)
def red_flags() -> Any:
    """The red-flag rules, in words and phrases: approvers add, edit, switch off and remove them."""
    s = storage.session()
    form, action_form = RuleForm(prefix="rule"), RuleActionForm(prefix="act")
    form.department.choices = [SelectChoice("", "-")] + [SelectChoice(d.slug, d.name)
                                                          for d in owners.list_departments(session=s)]
    status = 200
    editing = request.args.get("edit", type=int)
    if request.method == "GET" and editing:
        rule = redflags.get_rule(session=s, rule_id=editing)
        form.process(data={"rule_id": rule.id, "row_version": rule.row_version, "kind": rule.kind, "name": rule.name,
                           "lang": rule.lang, "keywords": "\n".join(rule.keywords or []),
                           "patterns": "\n".join(rule.patterns or []),
                           "department": rule.department.slug if rule.department else "",
                           "holding_statement": rule.holding_statement, "severity": rule.severity,
                           "active": rule.active})
    if request.method == "POST":
        if not Role(signed_in_user().role).at_least(Role.APPROVER):
            return render_template("error.html", status=403, title=_("Forbidden"),
                                   message=_("Red-flag rules are changed by approvers.")), 403
        action = request.form.get("action")
        try:
            if action == "rule" and form.validate_on_submit():
                redflags.save_rule(session=s, actor=signed_in_user(), rule_id=form.rule_id.data,
                                   row_version=form.row_version.data, kind=form.kind.data, name=form.name.data,
                                   lang=form.lang.data, keywords=_lines(form.keywords.data),
                                   patterns=_lines(form.patterns.data), department=form.department.data or None,
                                   holding_statement=form.holding_statement.data, severity=form.severity.data,
                                   active=form.active.data)
                flash(_("Rule saved; it applies to the next question."), "ok")
                return redirect(url_for("admin.red_flags"))
            if action in ("on", "off", "remove") and action_form.validate_on_submit():
                rule_id, row_version = action_form.rule_id.data, action_form.row_version.data
                if action == "remove":
                    redflags.remove_rule(session=s, actor=signed_in_user(), rule_id=rule_id, row_version=row_version)
                    flash(_("Rule removed."), "ok")
                else:
                    redflags.set_active(session=s, actor=signed_in_user(), rule_id=rule_id, active=action == "on",
                                        row_version=row_version)
                    flash(_("Rule switched on.") if action == "on" else _("Rule switched off."), "ok")
                return redirect(url_for("admin.red_flags"))
            status = 422
        except KbError as exc:
            form.form_errors.append(exc.message)
            status = exc.status
    return render_template("admin/red_flags.html", rules=redflags.list_rules(session=s), form=form,
                           action_form=action_form, editing=editing), status


@bp.route("/notifiers", methods=["GET", "POST"])
@role_required(Role.APPROVER)
def notifiers() -> Any:
    """Where each department is told of escalations and alerts: webhooks and e-mail."""
    s = storage.session()
    notifier_form, remove_form = NotifierForm(prefix="notifier"), RemoveNotifierForm(prefix="remove")
    notifier_form.department.choices = [SelectChoice(d.slug, d.name) for d in owners.list_departments(session=s)]
    status = 200
    if request.method == "POST":
        if request.form.get("action") == "remove" and not Role(signed_in_user().role).at_least(Role.ADMIN):
            return render_template("error.html", status=403, title=_("Forbidden"),
                                   message=_("Notifiers are removed by admins.")), 403
        try:
            if request.form.get("action") == "remove" and remove_form.validate_on_submit():
                notify.remove_notifier(session=s, actor=signed_in_user(), notifier_id=remove_form.notifier_id.data)
                flash(_("Notifier removed."), "ok")
                return redirect(url_for("admin.notifiers"))
            if request.form.get("action") != "remove" and notifier_form.validate_on_submit():
                notify.add_notifier(session=s, actor=signed_in_user(), department=notifier_form.department.data,
                                    kind=notifier_form.kind.data, target=notifier_form.target.data,
                                    secret=notifier_form.secret.data or "",
                                    policy=TargetPolicy.from_config(current_app.config))
                flash(_("Notifier added."), "ok")
                return redirect(url_for("admin.notifiers"))
            status = 422
        except KbError as exc:
            notifier_form.form_errors.append(exc.message)
            status = exc.status
    return render_template("admin/notifiers.html", notifier_form=notifier_form, remove_form=remove_form,
                           notifiers=notify.list_notifiers(session=s)), status


@bp.route("/response-times", methods=["GET", "POST"])
@role_required(Role.EDITOR)
def response_times() -> Any:
    """Who owes an answer by when, what is overdue, and each department's record over 30 days."""
    s = storage.session()
    form = ResolveForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            step = sla.take if form.step.data == "take" else sla.resolve
            step(session=s, inquiry_id=form.inquiry_id.data, user=signed_in_user())
        except KbError as exc:
            flash(exc.message, "error")
        return redirect(url_for("admin.response_times", overdue=request.args.get("overdue") or None))
    now = utcnow()
    days = 7 if request.args.get("period") != "30" else 30
    since = now - dt.timedelta(days=days)
    report = sla.report(session=s, since=since, now=now)
    reps = sla.rep_report(session=s, since=since, now=now)
    chart = charts.stacked_bars([named("department", r.department) for r in report],
                                {"met": [r.met for r in report], "missed": [r.missed for r in report],
                                 "open": [r.open for r in report]}, title=_("Resolved in time, per department"))
    rep_chart = charts.stacked_bars([r.rep for r in reps],
                                    {"in_time": [r.replied_in_time for r in reps],
                                     "late": [r.replied_late for r in reps],
                                     "no_reply": [r.not_replied for r in reps]},
                                    title=_("First reply on the page, per agency rep"))
    overdue_only = bool(request.args.get("overdue"))
    return render_template("admin/response_times.html", owed=sla.owed(session=s, now=now, overdue_only=overdue_only),
                           now=now, report=report, reps=reps, chart=chart, rep_chart=rep_chart, form=form,
                           days=days, overdue_only=overdue_only,
                           departments={d.id: d.name for d in owners.list_departments(session=s)})


@bp.app_context_processor
def inject_crises() -> dict[str, Any]:
    """Show every signed-in page the crises in force, so nobody answers a crisis topic from the library."""
    if current_user() is None:
        return {"active_crises": []}
    return {"active_crises": crises.list_active(session=storage.session())}
