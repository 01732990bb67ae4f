"""Vetted application factory and its settings."""
from __future__ import annotations

import datetime
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response
from werkzeug.routing import IntegerConverter

# Every setting, its default and what it means. Each can be set as VETTED_<NAME> in the environment
# (README: Configuration); the test `test_every_setting_is_documented` keeps this table and the README in step.
DEFAULTS: dict[str, Any] = {
    "SECRET_KEY": "",  # session signing key; generated once into instance/secret_key when empty
    "DATABASE_URL": "",  # SQLAlchemy URL; empty means sqlite:///<instance>/vetted.db
    "ALLOW_SELF_APPROVAL": False,  # small offices: an approver may approve their own draft
    "ENCODER": "auto",  # auto (minilm+e5 for English, e5 for the rest) | minilm | e5 | a+b | fake | any ST name/path
    "ENCODER_BACKEND": "auto",  # auto | onnx | bf16 | torch (suggest/matching/encoders.py, BACKENDS)
    "MODEL_CACHE": "",  # where exported ONNX models are kept; empty means <instance>/models
    "LANG_ENCODERS": "",  # per-language override, e.g. "he=e5,en=minilm"
    "WARM_UP": False,  # load the models when a worker starts instead of on the first question
    "SUGGEST_K": 3,  # suggestions returned by default
    "SUGGEST_CACHE_SIZE": 512,  # repeated identical questions answered from this many cached results
    "QUERY_MAX_TOKENS": 128,  # a question is encoded from its first this many tokens (0: whole); matched whole
    "INDEX_LISTEN": True,  # PostgreSQL: each serving worker is told of KB changes as they commit (LISTEN/NOTIFY)
    "REPEAT_WINDOW_MINUTES": 30,  # the same message from the same agent within this time is one inquiry
    "BATCH_WINDOW_MS": 0,  # a question may wait this long for concurrent ones; 0: only those queued meanwhile
    "BATCH_MAX": 16,  # questions encoded in one model call at most
    "DENSE_INDEX": "auto",  # auto (exact search, IVF once an encoder holds 16,000 texts) | flat | ivf
    # How close (0..1 on the encoder's scale) a message must be to a red-flag example: the lowest bar at which the
    # default examples escalate none of our routine or angry messages (`bench.train_redflags --cv-only --rules`).
    "FLAG_EXAMPLE_MATCH": "0.915",
    "FLAG_MODEL": "",  # red-flag classifier weights: empty for the shipped file, "off" for rules only, or a path
    "THRESHOLDS": "",  # JSON written by `flask suggest calibrate`; empty uses the built-in per-language values
    "API_RATE_LIMIT": 120,  # requests per minute per API key
    "PUBLIC_URL": "",  # this server's public address (https://vetted.example); packaged into the extension
    "CORS_ORIGINS": "",  # comma-separated origins allowed to call the API (the extension's chrome-extension://ID)
    "LOGIN_MAX_FAILURES": 5,  # sign-ins per username from one client address before that pair pauses
    "LOGIN_LOCK_MINUTES": 15,  # how long a pause lasts (and the window failures are counted in)
    "LOGIN_ADDRESS_MAX_FAILURES": 50,  # failed sign-ins from one address, any usernames, before it pauses
    "TRUSTED_PROXIES": 0,  # reverse proxies in front whose X-Forwarded-For/-Proto are believed (0: none)
    "SESSION_IDLE_MINUTES": 480,  # a console session unused this long ends
    "SESSION_ABSOLUTE_HOURS": 12,  # and every session ends this long after sign-in
    "METRICS_TOKEN": "",  # bearer token that may read /metrics besides admins
    "SESSION_COOKIE_SECURE": False,  # set true behind TLS
    "NOTIFY_WORKER": True,  # deliver notifications and watch for spikes in a background thread of each worker
    "NOTIFY_INTERVAL_S": 10,  # how often that thread looks for due deliveries
    "NOTIFY_ALLOW_HTTP": False,  # webhooks may use plain http (https only by default)
    "NOTIFY_ALLOW_PRIVATE": False,  # webhooks may reach loopback, private, link-local and reserved addresses
    "NOTIFY_ALLOWED_HOSTS": "",  # comma-separated webhook hosts ("*.example.com" for subdomains); empty: any public
    "SMTP_HOST": "",  # e-mail notifiers send through this server; empty leaves e-mail deliveries pending
    "SMTP_PORT": 25,
    "SMTP_FROM": "vetted@localhost",
    "SMTP_USER": "",
    "SMTP_PASSWORD": "",
    "SMTP_STARTTLS": False,
    "SPIKE_WINDOW_MINUTES": 60,  # spike detection compares this window ...
    "SPIKE_MIN_COUNT": 10,  # ... needs at least this many questions on one topic ...
    "SPIKE_FACTOR": 3,  # ... and this many times the usual rate (plus noise) to raise an alert
}

_BOOL_TRUE = {"1", "true", "yes", "on"}


def from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """Read VETTED_* variables, typed like their defaults."""
    settings: dict[str, Any] = {}
    for name, default in DEFAULTS.items():
        raw = environ.get(f"VETTED_{name}")
        if raw is None:
            continue
        if isinstance(default, bool):
            settings[name] = raw.strip().lower() in _BOOL_TRUE
        elif isinstance(default, int):
            try:
                settings[name] = int(raw)
            except ValueError:
                raise SystemExit(f"VETTED_{name} must be a whole number, got {raw!r}") from None
        else:
            settings[name] = raw
    return settings


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then instance/config.py, then VETTED_* variables, then test_config."""
    instance = (test_config or {}).get("INSTANCE_PATH") or os.environ.get("VETTED_INSTANCE_PATH") or None
    app = Flask(__name__, instance_relative_config=True, instance_path=instance)
    app.url_map.converters["int"] = IdConverter
    if not os.path.isdir(app.instance_path):
        # The instance folder holds the database, the session key and the extension key: its owner's only.
        os.makedirs(app.instance_path, mode=0o700, exist_ok=True)
        os.chmod(app.instance_path, 0o700)
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_mapping(from_environment(os.environ))
    if test_config:
        app.config.from_mapping(test_config)
    public_url = app.config["PUBLIC_URL"]
    if public_url and not (public_url.startswith(("https://", "http://")) and urlsplit(public_url).hostname):
        raise SystemExit(f"VETTED_PUBLIC_URL must be an http(s) address such as https://vetted.example, "
                         f"got {public_url!r}")
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = "sqlite:///" + os.path.join(app.instance_path, "vetted.db")

    from kb import storage

    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = storage.instance_secret(app.instance_path)
    app.config.update(
        PERMANENT_SESSION_LIFETIME=datetime.timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"]),
        WTF_CSRF_TIME_LIMIT=None,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=1024 * 1024,
    )
    if app.config["TRUSTED_PROXIES"] > 0:
        # Sign-in throttling keys on the client's address; behind a proxy that is the forwarded one.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    storage.init_app(app)
    app.extensions["vetted.factory"] = create_app  # throwaway apps for evaluation are built the same way

    from suggest import settings as suggest_settings

    suggest_settings.init_app(app)

    from web import auth, errors, i18n

    auth.init_app(app)
    i18n.init_app(app)

    from admin import bp as admin_bp
    from suggest.agent.api import bp as api_bp
    from suggest.agent.views import bp as agent_bp

    app.register_blueprint(auth.bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(agent_bp)
    app.register_blueprint(admin_bp)

    from kb.cli import register as register_kb_cli
    from suggest.cli import register as register_suggest_cli

    register_kb_cli(app)
    register_suggest_cli(app)
    auth.csrf.exempt(api_bp)
    errors.register_error_handlers(app)
    app.before_request(_require_schema)
    app.after_request(_security_headers)
    if app.config["NOTIFY_WORKER"] and not app.config.get("TESTING") and _serving():
        from suggest.escalation import worker

        worker.start(app)
    if app.config["INDEX_LISTEN"] and not app.config.get("TESTING") and _serving():
        from suggest import watch

        app.extensions["vetted.watch"] = watch.start(app)
    return app


class IdConverter(IntegerConverter):
    """An <int:...> URL part that fits the database's INTEGER ids; a larger number is a 404, not an overflow."""

    def __init__(self, url_map: Any, fixed_digits: int = 0, min: int | None = None,
                 max: int | None = None, signed: bool = False) -> None:
        from kb.content import INT_MAX

        super().__init__(url_map, fixed_digits, min, INT_MAX if max is None else max, signed)


def _serving() -> bool:
    """Say whether this process serves requests (not a CLI command such as `flask kb init`)."""
    import sys

    argv = " ".join(sys.argv)
    return "gunicorn" in argv or " run" in argv or argv.endswith("flask run") or "wsgi" in argv


def _require_schema() -> Response | None:
    """Refuse to serve on a database that is not at the code's schema, with the one command that fixes it."""
    from flask import current_app

    if current_app.extensions.get("vetted.schema_ok"):
        return None
    from kb import storage

    if storage.is_migrated(storage.database().engine):
        current_app.extensions["vetted.schema_ok"] = True
        return None
    return Response("The database is not set up for this version: run `flask kb init`.\n", status=503,
                    mimetype="text/plain")


def _security_headers(response: Response) -> Response:
    """Send the same defensive headers on every response."""
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response
