"""Console pages that watch the traffic: dashboard, unanswered questions, alerts and notifications."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange

from admin import charts
from admin.blueprint import bp
from kb import phrasings, storage
from kb.errors import KbError
from kb.workflow import Role
from suggest.escalation import notify, spikes
from suggest.insights import analytics, unanswered
from web.auth import role_required, signed_in_user
from web.i18n import gettext, short_day
from web.labels import N_


class PhrasingForm(FlaskForm):
    entry_id = IntegerField(validators=[DataRequired(), NumberRange(min=1)])
    phrasing = StringField(validators=[DataRequired(), Length(max=1000)])


class DismissForm(FlaskForm):
    ids = StringField(validators=[DataRequired(), Length(max=20000)])


class AckForm(FlaskForm):
    alert_id = IntegerField(validators=[DataRequired()])


@bp.route("/dashboard")
@role_required(Role.EDITOR)
def dashboard() -> Any:
    """Questions per day by outcome, share of no match, most-used answers, review debt, time to approval."""
    board = analytics.dashboard(session=storage.session())
    chart = charts.stacked_bars([short_day(d) for d in board.days], board.per_day,
                                title=N_("Questions per day by outcome"))
    return render_template("admin/dashboard.html", board=board, chart=chart,
                           alerts=spikes.open_alerts(session=storage.session(), limit=10))


@bp.route("/unanswered", methods=["GET", "POST"], endpoint="unanswered")
@role_required(Role.EDITOR)
def unanswered_queue() -> Any:
    """Questions that got no approved answer, clustered; draft from one, add it as a phrasing, or dismiss."""
    s = storage.session()
    phrasing_form, dismiss_form = PhrasingForm(prefix="alt"), DismissForm(prefix="dismiss")
    if request.method == "POST":
        if request.form.get("action") == "phrasing" and phrasing_form.validate_on_submit():
            try:
                phrasings.propose(session=s, actor=signed_in_user(), entry_id=phrasing_form.entry_id.data,
                                  text=phrasing_form.phrasing.data)
            except KbError as exc:
                flash(gettext(exc.message), "error")
            else:
                flash(gettext("Proposed as a phrasing of entry {entry}: an approver accepts it under Learned "
                              "phrasings.", entry=phrasing_form.entry_id.data), "ok")
                return redirect(url_for("admin.phrasings_page"))
        elif request.form.get("action") == "dismiss" and dismiss_form.validate_on_submit():
            ids = [int(i) for i in dismiss_form.ids.data.split(",") if i.strip().isdigit()]
            unanswered.dismiss(session=s, inquiry_ids=ids, user_id=signed_in_user().id)
            flash(gettext("Dismissed {n} question(s).", n=len(ids)), "ok")
            return redirect(url_for("admin.unanswered"))
        else:
            flash(gettext("That did not work: check the entry number and the phrasing."), "error")
    return render_template("admin/unanswered.html", clusters=unanswered.clusters(session=s),
                           phrasing_form=phrasing_form, dismiss_form=dismiss_form)


@bp.route("/alerts", methods=["GET", "POST"])
@role_required(Role.EDITOR)
def alerts() -> Any:
    """Open alerts and recent notifications, with their delivery state."""
    s = storage.session()
    form = AckForm()
    if request.method == "POST" and form.validate_on_submit():
        spikes.acknowledge(session=s, alert_id=form.alert_id.data, user_id=signed_in_user().id)
        return redirect(url_for("admin.alerts"))
    open_alerts = spikes.open_alerts(session=s)
    named = {a.id: spikes.questions(session=s, alert=a) for a in open_alerts}
    return render_template("admin/alerts.html", alerts=open_alerts, named=named, form=form,
                           deliveries=notify.recent(session=s))
