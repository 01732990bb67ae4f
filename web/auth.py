"""Console sign-in, the current user, and role checks for every page."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf import CSRFProtect, FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from kb import accounts, sessions, storage
from kb.errors import PermissionDenied
from kb.models import User
from kb.workflow import Role

bp = Blueprint("auth", __name__, template_folder="templates")
csrf = CSRFProtect()


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


def lifetime() -> sessions.Lifetime:
    """Return how long console sessions live, from the settings."""
    return sessions.Lifetime(idle=dt.timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"]),
                             absolute=dt.timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"]))


def sign_in_limits() -> accounts.SignInLimits:
    """Return the sign-in throttling limits, from the settings."""
    config = current_app.config
    return accounts.SignInLimits(max_failures=config["LOGIN_MAX_FAILURES"], lock_minutes=config["LOGIN_LOCK_MINUTES"],
                                 address_max_failures=config["LOGIN_ADDRESS_MAX_FAILURES"])


def current_user() -> User | None:
    """Return the signed-in user of this request, if any."""
    if "user" not in g:
        token = session.get("sid")
        user = None
        if isinstance(token, str):
            # Its own database session: noting the session's use commits, which must not commit a view's work.
            with storage.database().session() as own:
                user_id = sessions.resolve(session=own, token=token, lifetime=lifetime())
            user = accounts.get_user(session=storage.session(), user_id=user_id) if user_id else None
        g.user = user
    return g.user


def signed_in_user() -> User:
    """Return the user of a view that `role_required` guards; without one the view cannot run (401)."""
    user = current_user()
    if user is None:
        abort(401)
    return user


def role_required(role: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Let a view through only for users with at least `role`; others sign in or get 403."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if not Role(user.role).at_least(role):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_role = role  # type: ignore[attr-defined]
        return wrapped

    return decorate


def public(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view as open to everyone, on purpose."""
    view.required_role = None  # type: ignore[attr-defined]
    return view


def is_local_path(target: str | None) -> bool:
    """Say whether a redirect target is a path on this site, with nothing a Location header cannot carry."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return False
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return False  # CR/LF would split the header; browsers also drop tabs and turn "/\t/x" into "//x"
    parts = urlsplit(target)
    return not (parts.scheme or parts.netloc)


def _safe_next(target: str | None) -> str:
    return target if target is not None and is_local_path(target) else url_for("agent.search")


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Any:
    """Sign in with username and password."""
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(
                session=storage.session(), username=form.username.data, password=form.password.data,
                address=request.remote_addr or "", limits=sign_in_limits(),
            )
        except PermissionDenied as exc:
            error = exc.message
        else:
            language = session.get("ui_lang")
            session.clear()  # a fresh cookie: nothing from before sign-in carries over
            session["sid"] = sessions.start(session=storage.session(), user=user, lifetime=lifetime())
            if language:
                session["ui_lang"] = language
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")))
    status = 401 if error else 200
    return render_template("login.html", form=form, error=error), status


@bp.route("/logout", methods=["POST"])
@public
def logout() -> Any:
    """Sign out: the session ends on the server too, so a copy of the cookie opens nothing."""
    token = session.get("sid")
    if isinstance(token, str):
        sessions.end(session=storage.session(), token=token)
    session.clear()
    return redirect(url_for("auth.login"))


def init_app(app: Flask) -> None:
    """Turn on CSRF for every form and give templates the current user and roles."""
    csrf.init_app(app)

    @app.context_processor
    def inject_user() -> dict[str, Any]:
        user = current_user() if storage.EXTENSION in app.extensions else None
        return {"current_user": user, "Role": Role,
                "has_role": lambda r: user is not None and Role(user.role).at_least(Role(r))}
