"""The learned-phrasings page: wordings from agents' picks or from PR, accepted or turned down in one click."""
from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm

from admin.blueprint import bp
from kb import phrasings, storage
from kb.errors import KbError
from kb.models import PHRASING_ACCEPTED, PHRASING_CANDIDATE
from kb.workflow import Role
from web.auth import role_required, signed_in_user
from web.i18n import gettext


class DecideForm(FlaskForm):
    """Accept or turn down one phrasing: the button carries the decision, the URL the phrasing."""


@bp.route("/phrasings")
@role_required(Role.EDITOR)
def phrasings_page() -> Any:
    """Candidates waiting for a decision, most picked first, and the phrasings matched today."""
    s = storage.session()
    return render_template("admin/phrasings.html", form=DecideForm(), me=signed_in_user(),
                           allow_self=current_app.config["ALLOW_SELF_APPROVAL"],
                           candidates=phrasings.listing(session=s, status=PHRASING_CANDIDATE),
                           waiting=phrasings.candidate_count(session=s),  # all of them, not only those listed
                           accepted=phrasings.listing(session=s, status=PHRASING_ACCEPTED))


@bp.route("/phrasings/<int:phrasing_id>/<any(accept, reject):decision>", methods=["POST"])
@role_required(Role.APPROVER)
def decide_phrasing(phrasing_id: int, decision: str) -> Any:
    """Accept a candidate (matched from the next question on), or turn one down or stop matching it."""
    if not DecideForm().validate_on_submit():
        flash(gettext("The form expired; try again."), "error")
        return redirect(url_for("admin.phrasings_page"))
    s = storage.session()
    try:
        if decision == "accept":
            phrasings.accept(session=s, actor=signed_in_user(), phrasing_id=phrasing_id,
                             allow_self_approval=current_app.config["ALLOW_SELF_APPROVAL"])
            flash(gettext("Accepted: this wording is matched from now on."), "ok")
        else:
            phrasings.reject(session=s, actor=signed_in_user(), phrasing_id=phrasing_id)
            flash(gettext("Turned down: this wording is not matched."), "ok")
    except KbError as exc:
        flash(gettext(exc.message), "error")
    return redirect(url_for("admin.phrasings_page"))
