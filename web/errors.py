"""The site's one error shape: JSON errors for the API and page calls, error pages otherwise, and body parsing."""
from __future__ import annotations

import json
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from kb.errors import KbError
from web.labels import N_

MAX_BODY = 64 * 1024


class ApiError(Exception):
    """An error answered as {"error": {"code", "message"}} with an HTTP status."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    """Return the one JSON error shape of the API."""
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def json_body() -> dict[str, Any]:
    """Return the request's JSON object, or raise the precise 4xx for what is wrong with it."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise ApiError(413, "too_large", f"the body is larger than {MAX_BODY} bytes")
    if request.mimetype != "application/json":
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    raw = request.get_data(cache=True)
    if len(raw) > MAX_BODY:
        raise ApiError(413, "too_large", f"the body is larger than {MAX_BODY} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "bad_encoding", "the body is not valid UTF-8") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ApiError(400, "bad_json", f"the body is not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise ApiError(400, "bad_json", "the body nests arrays or objects too deeply") from None
    except ValueError:  # an integer literal longer than Python converts (4300 digits)
        raise ApiError(400, "bad_json", "the body holds a number too long to read") from None
    if not isinstance(data, dict):
        raise ApiError(400, "bad_json", "the body must be a JSON object")
    try:
        # A \ud800 escape decodes to a lone surrogate, which is not text: no database or encoder can store it.
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError(400, "bad_json", "the body holds an unpaired surrogate escape (\\ud800-\\udfff)") from None
    return data


def is_api_path(path: str) -> bool:
    """Say whether a path belongs to the JSON API (errors there are JSON)."""
    return path.startswith("/api/")


def http_error_as_json(exc: HTTPException) -> Response:
    """Render any HTTP error under /api/ in the API's error shape."""
    codes = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
             405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type", 429: "rate_limited"}
    status = exc.code or 500
    # Keep what the exception says in headers, such as the Allow list of a 405.
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    return error_response(status, codes.get(status, "error"), exc.description or exc.name, headers)


def wants_json() -> bool:
    return request.path.startswith(("/api/", "/agent/")) or request.path in ("/healthz", "/metrics")


# Error pages in words the catalogue translates (werkzeug's own descriptions are English only).
HTTP_PAGES = {
    400: (N_("Bad request"), N_("The request was not understood. Go back and try again.")),
    403: (N_("Forbidden"), N_("Your role may not open this page.")),
    404: (N_("Not found"), N_("There is nothing at this address.")),
    405: (N_("Not allowed"), N_("This address does not take that kind of request.")),
    413: (N_("Too large"), N_("What you sent is too large.")),
    429: (N_("Too many requests"), N_("Too many requests. Wait a little and try again.")),
}
_PAGE_WORDS = (N_("That did not work"), N_("Service unavailable"), N_("Something went wrong"),
               N_("The error has been logged."), N_("the database is not reachable right now; try again shortly"),
               N_("wrong username or password"), N_("too many failed logins; try again later"))


def register_error_handlers(app: Flask) -> None:
    """Answer every error in the caller's language: JSON for the API and page calls, a page otherwise."""
    def page(status: int, title: str, message: str) -> tuple[str, int]:
        return render_template("error.html", status=status, title=title, message=message), status

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> ResponseReturnValue:
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.errorhandler(KbError)
    def kb_error(exc: KbError) -> ResponseReturnValue:
        if wants_json():
            return error_response(exc.status, exc.code, exc.message)
        return page(exc.status, "That did not work", exc.message)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> ResponseReturnValue:
        if wants_json():
            return http_error_as_json(exc)
        status = exc.code or 500
        title, message = HTTP_PAGES.get(status, (exc.name, exc.description or ""))
        body, status = page(status, title, message)
        return body, status, [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]

    @app.errorhandler(OperationalError)
    def database_down(exc: OperationalError) -> ResponseReturnValue:
        app.logger.error("database error: %s", str(exc.orig or exc).splitlines()[0])
        message = "the database is not reachable right now; try again shortly"
        if wants_json():
            return error_response(503, "database_unavailable", message, {"Retry-After": "5"})
        return page(503, "Service unavailable", message)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> ResponseReturnValue:
        app.logger.exception("unhandled error on %s", request.path)
        if wants_json():
            return error_response(500, "internal_error", "something went wrong on our side; it has been logged")
        return page(500, "Something went wrong", "The error has been logged.")
