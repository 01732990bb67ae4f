"""The agent's search page and the JSON calls it makes with the agent's session."""
from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf import FlaskForm

from kb import accounts, content, owners, storage
from kb.content import field
from kb.workflow import Role
from suggest import engine as engine_mod
from suggest.agent import extension, metrics
from suggest.results import Outcome, SuggestRequest
from suggest.service import record_feedback, send_to_pr, suggest
from web.auth import current_user, role_required, signed_in_user
from web.errors import json_body

bp = Blueprint("agent", __name__, template_folder="templates")


class ExtensionKeyForm(FlaskForm):
    """A button that creates the agent's own extension key."""


@bp.route("/")
@role_required(Role.AGENT)
def home() -> Any:
    """Send agents to the search page."""
    return redirect(url_for("agent.search"))


@bp.route("/search")
@role_required(Role.AGENT)
def search() -> Any:
    """Show the search page."""
    return render_template("agent/search.html", channels=content.CHANNELS)


@bp.route("/agent/suggest", methods=["POST"])
@role_required(Role.AGENT)
def agent_suggest() -> Any:
    """Answer the search page's question (session and CSRF token, not an API key)."""
    req = SuggestRequest.from_json(json_body(), default_k=int(current_app.config["SUGGEST_K"]))
    user = current_user()
    result = suggest(session=storage.session(), engine=engine_mod.engine(), request=req, source="page",
                     user_id=user.id if user else None)
    metrics.observe(result.outcome, result.took_ms)
    body = result.as_json()
    if result.outcome is Outcome.NO_MATCH:
        # The page tells the agent whom to ask; customer service owns a conversation nobody has an answer for.
        dept = owners.find_department(session=storage.session(), slug="customer-service")
        body["fallback"] = {"department": dept.name if dept else None, "contacts": owners.contacts_for(dept)}
    return jsonify(body)


@bp.route("/agent/feedback", methods=["POST"])
@role_required(Role.AGENT)
def agent_feedback() -> Any:
    """Record the agent's feedback on a suggestion."""
    data = json_body()
    user = current_user()
    inquiry = record_feedback(
        session=storage.session(),
        inquiry_id=field(data, "inquiry_id", (int,), required=True),
        entry_id=field(data, "entry_id", (int,)),
        version=field(data, "version", (int,)),
        action=field(data, "action", (str,), required=True),
        sent_text=field(data, "sent_text", (str,)),
        user_id=user.id if user else None,
    )
    return jsonify({"inquiry_id": inquiry.id, "feedback": inquiry.feedback})


@bp.route("/agent/send-to-pr", methods=["POST"])
@role_required(Role.AGENT)
def agent_send_to_pr() -> Any:
    """Put an unanswered question into PR's queue."""
    data = json_body()
    user = current_user()
    inquiry = send_to_pr(session=storage.session(), inquiry_id=field(data, "inquiry_id", (int,), required=True),
                         user_id=user.id if user else None)
    return jsonify({"inquiry_id": inquiry.id, "sent_to_pr": inquiry.sent_to_pr})


@bp.route("/extension", methods=["GET", "POST"])
@role_required(Role.AGENT)
def extension_page() -> Any:
    """How to install the browser extension, its download, and a key of the agent's own (shown once)."""
    form = ExtensionKeyForm()
    created = None
    user = signed_in_user()
    if form.validate_on_submit():
        _, created = accounts.create_api_key(session=storage.session(), user=user, scopes=["suggest", "feedback"],
                                             name=f"browser extension ({user.username})", actor=user)
    keys = [k for k in accounts.list_api_keys(session=storage.session()) if k.user_id == user.id]
    return render_template("agent/extension.html", form=form, created=created, keys=keys,
                           extension_id=extension.extension_id(current_app.instance_path))


@bp.route("/extension.zip")
@role_required(Role.AGENT)
def extension_zip() -> Any:
    """Download the extension with this server's address prefilled."""
    files = extension.build(current_app.instance_path, request.host_url)
    return Response(extension.zip_bytes(files), mimetype="application/zip",
                    headers={"Content-Disposition": "attachment; filename=vetted-extension.zip"})
