"""The JSON API: suggest, feedback, entries, its OpenAPI spec, health and metrics."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request

from kb import accounts, content, rate_limits, storage
from kb import service as kb_service
from kb.content import field
from kb.errors import NotFound
from kb.workflow import Role, Status
from suggest import engine as engine_mod
from suggest.agent import extension, metrics
from suggest.agent.names import names_in_language
from suggest.agent.openapi import spec
from suggest.inquiries import hand_off, record_feedback, send_to_pr
from suggest.results import SuggestRequest
from suggest.service import suggest
from web.auth import current_user, public
from web.errors import ApiError, error_response, json_body

bp = Blueprint("api", __name__)


def repeat_window() -> dt.timedelta:
    """Return how long the same message from the same agent counts as the same inquiry."""
    return dt.timedelta(minutes=int(current_app.config["REPEAT_WINDOW_MINUTES"]))


def require_key(scope: str | None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Accept only a live API key with `scope` (any live key for None), within its rate limit."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            header = request.headers.get("Authorization", "")
            scheme, _, raw = header.partition(" ")
            if scheme.lower() != "bearer" or not raw.strip():
                raise ApiError(401, "unauthorized", "send an API key as 'Authorization: Bearer <key>'")
            key = accounts.verify_api_key(session=storage.session(), raw=raw.strip())
            if key is None:
                raise ApiError(401, "unauthorized", "the API key is unknown or has been revoked")
            if scope is not None and scope not in key.scopes:
                raise ApiError(403, "forbidden", f"this API key lacks the '{scope}' scope")
            wait = rate_limits.hit(session=storage.session(), key_id=key.id,
                                   per_minute=int(current_app.config["API_RATE_LIMIT"]))
            if wait is not None:
                seconds = max(1, int(wait + 0.999))
                raise ApiError(429, "rate_limited", f"too many requests; retry in {seconds} s",
                               {"Retry-After": str(seconds)})
            g.api_key = key
            return view(*args, **kwargs)

        wrapped.required_scope = scope or "any"  # type: ignore[attr-defined]
        return wrapped

    return decorate


@bp.route("/api/v1/suggest", methods=["POST"])
@require_key("suggest")
def suggest_endpoint() -> Any:
    """Suggest approved answers for a customer's message."""
    req = SuggestRequest.from_json(json_body(), default_k=int(current_app.config["SUGGEST_K"]))
    key = g.api_key
    result = suggest(session=storage.session(), engine=engine_mod.engine(), request=req, source="api",
                     user_id=key.user_id, api_key_id=key.id, repeat_window=repeat_window())
    metrics.observe(result.outcome, result.took_ms)
    return jsonify(names_in_language(result.as_json()))


def feedback_from(data: dict[str, Any], *, user_id: int | None, api_key_id: int | None) -> Response:
    """Record the feedback in a request body for its caller (an API key, or the signed-in agent)."""
    inquiry = record_feedback(
        session=storage.session(),
        inquiry_id=field(data, "inquiry_id", (int,), required=True),
        entry_id=field(data, "entry_id", (int,)),
        version=field(data, "version", (int,)),
        action=field(data, "action", (str,), required=True),
        sent_text=field(data, "sent_text", (str,)),
        user_id=user_id,
        api_key_id=api_key_id,
    )
    return jsonify({"inquiry_id": inquiry.id, "feedback": inquiry.feedback})


def send_to_pr_from(data: dict[str, Any], *, user_id: int | None, api_key_id: int | None) -> Response:
    """Send the question a request body names to PR, for its caller."""
    inquiry = send_to_pr(session=storage.session(), inquiry_id=field(data, "inquiry_id", (int,), required=True),
                         user_id=user_id, api_key_id=api_key_id)
    return jsonify({"inquiry_id": inquiry.id, "sent_to_pr": inquiry.sent_to_pr})


def hand_off_from(data: dict[str, Any], *, user_id: int | None, api_key_id: int | None) -> Response:
    """Hand over the conversation a request body names, for its caller."""
    inquiry = hand_off(session=storage.session(), inquiry_id=field(data, "inquiry_id", (int,), required=True),
                       department=field(data, "department", (str,), required=True),
                       reason=field(data, "reason", (str,), required=True), user_id=user_id, api_key_id=api_key_id)
    return jsonify({"inquiry_id": inquiry.id, "handoff": inquiry.handoff})


@bp.route("/api/v1/feedback", methods=["POST"])
@require_key("feedback")
def feedback_endpoint() -> Any:
    """Record what the agent did with a suggestion."""
    return feedback_from(json_body(), user_id=None, api_key_id=g.api_key.id)


@bp.route("/api/v1/send-to-pr", methods=["POST"])
@require_key("feedback")
def send_to_pr_endpoint() -> Any:
    """Put a question with no approved answer into PR's queue of missing answers."""
    return send_to_pr_from(json_body(), user_id=None, api_key_id=g.api_key.id)


@bp.route("/api/v1/handoff", methods=["POST"])
@require_key("feedback")
def handoff_endpoint() -> Any:
    """Hand a conversation over to an in-house department (a sales lead, a service case)."""
    return hand_off_from(json_body(), user_id=None, api_key_id=g.api_key.id)


@bp.route("/api/v1/keys/current", methods=["GET"])
@require_key(None)
def current_key_endpoint() -> Any:
    """Say which user and scopes the presented key has (the extension's connection test)."""
    key = g.api_key
    return jsonify({"key_id": key.id, "user": key.username, "scopes": list(key.scopes), "name": key.name})


@bp.route("/api/v1/entries/<int:entry_id>", methods=["GET"])
@require_key("read")
def entry_endpoint(entry_id: int) -> Any:
    """Return an entry's approved version."""
    s = storage.session()
    entry = kb_service.get_entry(session=s, entry_id=entry_id)
    version = entry.approved_version
    if version is None or version.status != Status.APPROVED.value:
        raise NotFound(f"entry {entry_id} has no approved version")
    return jsonify({
        "entry_id": entry.id, "version": version.number, "lang": entry.lang,
        "question": content.strip_markup(version.question),
        "alternates": [content.strip_markup(a) for a in version.alternates or []],
        "answer": content.strip_markup(version.answer),
        "variants": {c: content.strip_markup(t) for c, t in (version.variants or {}).items()},
        "placeholders": version.placeholders, "category": entry.category.slug if entry.category else None,
        "approved_by": version.approver.display_name if version.approver else None,
        "approved_at": version.approved_at.isoformat() + "Z" if version.approved_at else None,
        "review_by": version.review_by.isoformat() if version.review_by else None,
    })


@bp.route("/api/v1/openapi.json", methods=["GET"])
@public
def openapi_endpoint() -> Any:
    """Serve the API's OpenAPI 3.1 description."""
    return jsonify(spec())


@bp.route("/healthz", methods=["GET"])
@public
def healthz() -> Any:
    """Say whether the database answers, the model is warm, and which KB generation the index holds."""
    eng = engine_mod.engine()
    try:
        db_generation = storage.generation(storage.session())
        database_ok = True
    except Exception:  # noqa: BLE001 - any database failure means "not healthy", reported as such
        db_generation, database_ok = None, False
    body = {"status": "ok" if database_ok else "degraded", "database": database_ok,
            "kb_generation": db_generation, **{f"index_{k}": v for k, v in eng.stats().items()}}
    return jsonify(body), 200 if database_ok else 503


@bp.route("/metrics", methods=["GET"])
@public  # checks an admin session or the metrics token itself
def metrics_endpoint() -> Any:
    """Prometheus metrics, for admins or the configured token."""
    token = current_app.config["METRICS_TOKEN"]
    header = request.headers.get("Authorization", "")
    if not (token and header == f"Bearer {token}"):
        user = current_user()
        if user is None or not Role(user.role).at_least(Role.ADMIN):
            return error_response(401 if user is None else 403, "unauthorized" if user is None else "forbidden",
                                  "metrics need an admin session or the metrics token")
    return Response(metrics.render(), mimetype="text/plain; version=0.0.4")


@bp.after_app_request
def _cors(response: Response) -> Response:
    """Let only the configured origins (the extension's) call the API from a browser."""
    if not request.path.startswith("/api/"):
        return response
    origin = request.headers.get("Origin")
    allowed = {o.strip() for o in current_app.config["CORS_ORIGINS"].split(",") if o.strip()}
    if origin and origin.startswith("chrome-extension://"):
        allowed.add(extension.origin(current_app.instance_path))  # the extension this server hands out
    response.vary.add("Origin")
    if origin and origin in allowed:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Max-Age"] = "600"
        response.headers["Access-Control-Expose-Headers"] = "Retry-After"
    return response


