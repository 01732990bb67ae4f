"""Interface language for the console and the agent page: the user's choice (kept on the account and in a cookie
that outlives sign-out), else the browser's; messages come from the one gettext catalogue (web/catalogue.py)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from babel.dates import format_date, format_datetime, format_interval, format_skeleton
from babel.numbers import format_decimal
from flask import Blueprint, Flask, g, has_request_context, redirect, request, session, url_for
from flask_wtf import FlaskForm
from markupsafe import Markup, escape

from kb import accounts, owners, storage
from web.auth import current_user, is_local_path, public
from web.catalogue import messages
from web.labels import label

# The languages the interface offers: those the catalogue holds completely.
LANGUAGES = ("he", "en")
RTL = frozenset({"he", "ar"})
COOKIE = "ui_lang"
COOKIE_AGE = 365 * 24 * 3600

bp = Blueprint("i18n", __name__)


def translate(text: str, lang: str) -> str:
    """Return the interface text in `lang` (English is the source)."""
    return messages(lang).get(text, text) if lang != "en" else text


def _fill(text: str, values: dict[str, Any]) -> str:
    for name, value in values.items():
        text = text.replace("{" + name + "}", str(value))
    return text


def gettext(text: str, **values: Any) -> str:
    """Return `text` in the request's language with each {name} filled from `values` (plain text)."""
    return _fill(translate(text, current_language()), values)


def markup(text: str, lang: str, values: dict[str, Any]) -> Markup:
    """Return `text` in `lang` as markup, each {name} filled with its value escaped and isolated in a <bdi>."""
    out = escape(translate(text, lang))
    for name, value in values.items():
        filled = value if isinstance(value, Markup) else Markup("<bdi>%s</bdi>") % value
        out = Markup(str(out).replace("{" + name + "}", str(filled)))
    return out


def _stored_choice() -> str | None:
    user = current_user()
    if user is not None and getattr(user, "language", None) in LANGUAGES:
        return user.language
    for chosen in (session.get("ui_lang"), request.cookies.get(COOKIE)):
        if chosen in LANGUAGES:
            return chosen
    return None


def current_language() -> str:
    """Return the interface language: the user's choice, else the browser's preference."""
    if not has_request_context():
        return "en"
    if "ui_lang" not in g:
        g.ui_lang = _stored_choice() or request.accept_languages.best_match(LANGUAGES, default="en")
    return g.ui_lang


def when(value: dt.datetime | dt.date | None, lang: str | None = None) -> Markup:
    """Return a date or time in the locale's short form, kept left to right inside right-to-left text."""
    if value is None:
        return Markup("-")
    lang = lang or current_language()
    if isinstance(value, dt.datetime):
        text = format_datetime(value, "short", locale=lang)
    else:
        text = format_date(value, "short", locale=lang)
    return Markup('<time datetime="%s" dir="ltr">%s</time>') % (value.isoformat(), text)


def code(text: str) -> Markup:
    """Return a code, address or id as markup that stays left to right and untranslated."""
    return Markup('<code dir="ltr" translate="no">%s</code>') % text


def own(text: str) -> Markup:
    """Return someone's own words (a name, a customer's text) isolated and marked as not to be translated."""
    return Markup('<bdi translate="no">%s</bdi>') % text


def kbd(*keys: str) -> Markup:
    """Return a key combination as <kbd> markup, left to right."""
    return Markup('<bdi dir="ltr">%s</bdi>') % Markup("+").join(Markup("<kbd>%s</kbd>") % k for k in keys)


def short_day(value: dt.date | str, lang: str | None = None) -> str:
    """Return day and month in the locale's form (a chart's axis label)."""
    day = dt.date.fromisoformat(value) if isinstance(value, str) else value
    return format_skeleton("dM", day, locale=lang or current_language())


def span(start: dt.datetime, end: dt.datetime | None, lang: str | None = None) -> Markup:
    """Return a date range in the locale's form (one run, read in the page's direction)."""
    lang = lang or current_language()
    if end is None:
        return when(start, lang)
    text = format_interval(start, end, "yMdHm", locale=lang)
    return Markup('<bdi dir="ltr" class="range">%s</bdi>') % text


def number(value: float | int | None, lang: str | None = None, digits: int = 0) -> str:
    """Return a number in the locale's form."""
    if value is None:
        return "-"
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=lang or current_language())


def localname(obj: Any, lang: str | None = None) -> str:
    """Return a category's or department's name in the interface language, else its main name."""
    if obj is None:
        return "-"
    names = getattr(obj, "names", None) or {}
    return names.get(lang or current_language()) or obj.name


def named(kind: str, slug: str, lang: str | None = None) -> str:
    """Return the name of the department or category `slug` (or main name) in the interface language."""
    if "named" not in g:
        s = storage.session()
        g.named = {}
        for group, items in (("department", owners.list_departments(session=s)),
                             ("category", owners.list_categories(session=s))):
            for item in items:
                g.named[(group, item.name)] = g.named[(group, item.slug)] = item
    obj = g.named.get((kind, slug))
    return localname(obj, lang) if obj is not None else slug


@bp.route("/language/<lang>", methods=["POST"])
@public
def choose(lang: str) -> Any:
    """Switch the interface language and keep the choice on the account and in a cookie (a form post, with CSRF)."""
    target = request.form.get("next") or ""
    if not is_local_path(target):
        target = url_for("agent.search")
    response = redirect(target)
    if lang in LANGUAGES:
        user = current_user()
        if user is not None:
            accounts.set_language(session=storage.session(), user_id=user.id, language=lang)
        session["ui_lang"] = lang
        response.set_cookie(COOKIE, lang, max_age=COOKIE_AGE, samesite="Lax", httponly=True,
                            secure=request.is_secure)
    return response


def init_app(app: Flask) -> None:
    """Give templates `_`, labels, dates and numbers in the page language and its direction."""
    app.register_blueprint(bp)
    # Form validation messages come from WTForms' own catalogues (it ships Hebrew, Arabic and Russian), in the
    # request's language; Flask-WTF's route there needs Flask-Babel, which this app does not use.
    app.config["WTF_I18N_ENABLED"] = False
    FlaskForm.Meta.locales = property(lambda _meta: [current_language()] if has_request_context() else False)

    @app.context_processor
    def inject_language() -> dict[str, Any]:
        lang = current_language()

        def _(text: str, **values: Any) -> str | Markup:
            return markup(text, lang, values) if values else translate(text, lang)

        return {"ui_lang": lang, "ui_dir": "rtl" if lang in RTL else "ltr", "_": _,
                "label": lambda group, code: translate(label(group, code), lang),
                "localname": lambda obj: localname(obj, lang),
                "named": lambda kind, slug: named(kind, slug, lang), "code": code, "kbd": kbd, "own": own,
                "when": lambda v: when(v, lang),
                "span": lambda a, b: span(a, b, lang), "number": lambda v, digits=0: number(v, lang, digits)}
