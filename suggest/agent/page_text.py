"""The words the agent page's script shows, by key, in the page language, from the one message catalogue."""
from __future__ import annotations

from web.i18n import translate
from web.js_messages import JS_MESSAGES

# Keys are the ones static/js/suggestions.js and static/js/search.js ask for; {name} is filled in by the script.
PAGE_TEXT: dict[str, str] = JS_MESSAGES


def page_text(lang: str) -> dict[str, str]:
    """Return the agent page's words in `lang`."""
    return {key: translate(text, lang) for key, text in PAGE_TEXT.items()}
