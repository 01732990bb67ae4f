"""The agent's search page and the JSON calls it makes with the agent's session."""
from __future__ import annotations

import secrets
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import DataRequired

from kb import accounts, content, owners, storage
from kb.errors import KbError
from kb.workflow import Role
from suggest import engine as engine_mod
from suggest.agent import extension, metrics
from suggest.agent.api import feedback_from, hand_off_from, repeat_window, send_to_pr_from
from suggest.agent.names import names_in_language
from suggest.agent.page_text import page_text
from suggest.results import Outcome, SuggestRequest
from suggest.service import suggest
from web.auth import current_user, role_required, signed_in_user
from web.errors import json_body
from web.i18n import current_language, gettext

bp = Blueprint("agent", __name__, template_folder="templates")


class ExtensionKeyForm(FlaskForm):
    """A button that creates the agent's own extension key."""


class RevokeOwnKeyForm(FlaskForm):
    """A button that revokes one of the agent's own keys."""

    key_id = IntegerField(validators=[DataRequired()])


@bp.route("/")
@role_required(Role.AGENT)
def home() -> Any:
    """Send agents to the search page."""
    return redirect(url_for("agent.search"))


@bp.route("/search")
@role_required(Role.AGENT)
def search() -> Any:
    """Show the search page."""
    return render_template("agent/search.html", channels=content.CHANNELS, text=page_text(current_language()))


@bp.route("/agent/suggest", methods=["POST"])
@role_required(Role.AGENT)
def agent_suggest() -> Any:
    """Answer the search page's question (session and CSRF token, not an API key)."""
    req = SuggestRequest.from_json(json_body(), default_k=int(current_app.config["SUGGEST_K"]))
    user = current_user()
    result = suggest(session=storage.session(), engine=engine_mod.engine(), request=req, source="page",
                     user_id=user.id if user else None, repeat_window=repeat_window())
    metrics.observe(result.outcome, result.took_ms)
    body = names_in_language(result.as_json())
    if result.outcome is Outcome.NO_MATCH:
        # The page tells the agent whom to ask; customer service owns a conversation nobody has an answer for.
        dept = owners.find_department(session=storage.session(), slug="customer-service")
        body["fallback"] = {"department": dept.name if dept else None, "contacts": owners.contacts_for(dept)}
    return jsonify(body)


@bp.route("/agent/feedback", methods=["POST"])
@role_required(Role.AGENT)
def agent_feedback() -> Any:
    """Record the agent's feedback on a suggestion."""
    return feedback_from(json_body(), user_id=signed_in_user().id, api_key_id=None)


@bp.route("/agent/send-to-pr", methods=["POST"])
@role_required(Role.AGENT)
def agent_send_to_pr() -> Any:
    """Put an unanswered question into PR's queue."""
    return send_to_pr_from(json_body(), user_id=signed_in_user().id, api_key_id=None)


@bp.route("/agent/handoff", methods=["POST"])
@role_required(Role.AGENT)
def agent_handoff() -> Any:
    """Hand the conversation over to an in-house department."""
    return hand_off_from(json_body(), user_id=signed_in_user().id, api_key_id=None)


@bp.route("/extension", methods=["GET", "POST"])
@role_required(Role.AGENT)
def extension_page() -> Any:
    """How to install the browser extension, its download, and a key of the agent's own (shown once)."""
    form, revoke_form = ExtensionKeyForm(prefix="create"), RevokeOwnKeyForm(prefix="revoke")
    user = signed_in_user()
    s = storage.session()
    created = None
    if request.method == "POST" and request.form.get("action") == "revoke":
        if revoke_form.validate_on_submit():
            try:
                accounts.revoke_api_key(session=s, key_id=revoke_form.key_id.data, actor=user, own_only=True)
                flash(gettext("Key revoked: it stops working at once."), "ok")
            except KbError as exc:
                flash(exc.message, "error")
        return redirect(url_for("agent.extension_page"))
    if request.method == "POST" and form.validate_on_submit():
        # Each page carries a one-time token, so a reload that sends the form again makes no second key.
        if request.form.get("once") and request.form.get("once") == session.pop("extension_key_once", None):
            _, created = accounts.create_api_key(session=s, user=user, scopes=["suggest", "feedback"],
                                                 name=f"browser extension ({user.username})", actor=user)
        else:
            flash(gettext("That form was sent already; no new key was made."), "warn")
    session["extension_key_once"] = once = secrets.token_urlsafe(16)
    response = make_response(render_template(
        "agent/extension.html", form=form, revoke_form=revoke_form, created=created, once=once,
        keys=accounts.list_api_keys(session=s, user_id=user.id),
        extension_id=extension.extension_id(current_app.instance_path)))
    response.headers["Cache-Control"] = "no-store"  # the page may show a new key once
    return response


@bp.route("/extension.zip")
@role_required(Role.AGENT)
def extension_zip() -> Any:
    """Download the extension with this server's address prefilled."""
    server = current_app.config["PUBLIC_URL"]
    if not server:
        if not (current_app.debug or current_app.testing):
            # The Host header is the client's to choose; a packaged address must come from the operator.
            return render_template(
                "error.html", status=503, title=gettext("The extension is not available yet"),
                message=gettext("An administrator must set VETTED_PUBLIC_URL to this server's public "
                                "address before the extension can be downloaded.")), 503
        server = request.host_url
    files = extension.build(current_app.instance_path, server)
    return Response(extension.zip_bytes(files), mimetype="application/zip",
                    headers={"Content-Disposition": "attachment; filename=vetted-extension.zip"})
