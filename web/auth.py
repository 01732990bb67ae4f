"""Console sign-in, the current user, and role checks for every page."""
from __future__ import annotations

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

from kb import accounts, storage
from kb.errors import PermissionDenied
from kb.models import User
from kb.workflow import Role

bp = Blueprint("auth", __name__, template_folder="templates")
csrf = CSRFProtect()


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


def current_user() -> User | None:
    """Return the signed-in user of this request, if any."""
    if "user" not in g:
        user_id = session.get("user_id")
        user = accounts.get_user(session=storage.session(), user_id=user_id) if user_id else None
        if user is not None and (not user.active or session.get("pw") != user.password_hash[-12:]):
            user = None  # deactivated, or the password changed since this session began
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


def _safe_next(target: str | None) -> str:
    if not target:
        return url_for("agent.search")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("agent.search")
    return target


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
                max_failures=current_app.config["LOGIN_MAX_FAILURES"],
                lock_minutes=current_app.config["LOGIN_LOCK_MINUTES"],
            )
        except PermissionDenied as exc:
            error = exc.message
        else:
            session.clear()
            session["user_id"] = user.id
            session["pw"] = user.password_hash[-12:]
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")))
    status = 401 if error else 200
    return render_template("login.html", form=form, error=error), status


@bp.route("/logout", methods=["POST"])
@public
def logout() -> Any:
    """Sign out."""
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
