"""Rules for what an entry version may contain: languages, channels, lengths, placeholders. Pure."""
from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

import nh3

from kb.errors import BadField, MissingField, ValidationFailed

LANGUAGES = ("he", "en", "ar", "ru")  # offered in the console; any ISO 639 code is accepted
_LANG = re.compile(r"^[a-z]{2,3}$")
RTL_LANGUAGES = frozenset({"he", "ar"})
CHANNELS = ("web", "x", "facebook", "instagram", "email")
CHANNEL_ALIASES = {"twitter": "x", "x/twitter": "x", "fb": "facebook", "ig": "instagram"}
CHANNEL_LIMITS = {"x": 280}
MAX_QUESTION = 1000
MAX_ANSWER = 10_000

# INTEGER columns (every id) hold 32 bits on PostgreSQL: numbers outside are refused at the edges, not overflowed.
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]{0,39})\}")
# Spelled out, not \S or IGNORECASE: Python and JavaScript disagree on both (U+001C-U+001F, U+FEFF, and the long s
# that IGNORECASE folds to s), and static/js/suggestions.js must count exactly as this does.
_URL = re.compile(r"[Hh][Tt][Tt][Pp][Ss]?://[^\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")
# X counts these code-point ranges as one character and everything else (CJK, emoji) as two; a URL is 23.
_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_URL_WEIGHT = 23


_MAX_UNWRAP = 10


def strip_markup(text: str) -> str:
    """Reduce text to plain text (no tags, no NUL), whatever an editor pastes: answers are text with links."""
    text = text.replace("\x00", "")
    # nh3 parses like a browser (so <svg/onload=...> and an unclosed <img ... are tags too), keeps only the text
    # and escapes it; unescaping gives the text back. "&lt;img ...&gt;" would unescape into a tag, so repeat
    # until nothing changes: what is stored then holds no markup at any depth of escaping.
    for _ in range(_MAX_UNWRAP):
        cleaned = html.unescape(nh3.clean(text, tags=set(), clean_content_tags=set()))
        if cleaned == text:
            return text
        text = cleaned
    return html.escape(text, quote=False)  # pathological nesting: keep it harmless rather than loop on


def normalise_channel(channel: str | None) -> str:
    """Return the canonical channel name, or raise for an unknown one."""
    if channel is None or channel == "":
        return "web"
    name = CHANNEL_ALIASES.get(channel.strip().lower(), channel.strip().lower())
    if name not in CHANNELS:
        raise ValidationFailed(f"unknown channel {channel!r}; use one of {', '.join(CHANNELS)}")
    return name


def weighted_length(text: str) -> int:
    """Count `text` the way X does: NFC first, most scripts 1 per character, CJK and emoji 2, a URL 23."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    for part in _URL.split(text):
        for ch in part:
            cp = ord(ch)
            total += 1 if any(lo <= cp <= hi for lo, hi in _LIGHT_RANGES) else 2
    return total + _URL_WEIGHT * len(_URL.findall(text))


def placeholders_in(texts: Iterable[str]) -> set[str]:
    """Return every {name} used in `texts`."""
    found: set[str] = set()
    for text in texts:
        found.update(_PLACEHOLDER.findall(text or ""))
    return found


def fill(text: str, values: Mapping[str, str]) -> str:
    """Replace each {name} with its value; unknown names stay as they are."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def check_version(
    *,
    lang: str,
    question: str,
    answer: str,
    alternates: list[str],
    variants: Mapping[str, str],
    placeholders: list[str],
) -> None:
    """Raise ValidationFailed with the first thing wrong with a version's content."""
    if not _LANG.match(lang):
        raise ValidationFailed(f"language must be a two- or three-letter code such as {', '.join(LANGUAGES)}, "
                               f"got {lang!r}")
    if not question.strip():
        raise ValidationFailed("the question is empty")
    if len(question) > MAX_QUESTION:
        raise ValidationFailed(f"the question is longer than {MAX_QUESTION} characters")
    if not answer.strip():
        raise ValidationFailed("the answer is empty")
    if len(answer) > MAX_ANSWER:
        raise ValidationFailed(f"the answer is longer than {MAX_ANSWER} characters")
    for alt in alternates:
        if not alt.strip() or len(alt) > MAX_QUESTION:
            raise ValidationFailed("every alternate phrasing needs 1 to 1000 characters")
    for channel, text in variants.items():
        if channel not in CHANNELS:
            raise ValidationFailed(f"unknown channel {channel!r} in variants")
        limit = CHANNEL_LIMITS.get(channel)
        if limit is not None and weighted_length(text) > limit:
            raise ValidationFailed(f"the {channel} variant is {weighted_length(text)} characters; the limit is {limit}")
    used = placeholders_in([answer, *variants.values()])
    declared = set(placeholders)
    if used - declared:
        raise ValidationFailed(f"undeclared placeholders: {', '.join(sorted(used - declared))}")
    if declared - used:
        raise ValidationFailed(f"declared placeholders never used: {', '.join(sorted(declared - used))}")


def field(data: dict[str, Any], name: str, types: tuple[type, ...], required: bool = False) -> Any:
    """Return a request field checked for presence and type (None when absent and optional)."""
    if name not in data or data[name] is None:
        if required:
            raise MissingField(f"'{name}' is required")
        return None
    value = data[name]
    if int in types and isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON Schema counts 7.0 as an integer, and so do clients that only have floats
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
        names = " or ".join(t.__name__.replace("str", "string").replace("int", "integer") for t in types)
        raise BadField(f"'{name}' must be a {names}")
    if isinstance(value, int) and not isinstance(value, bool) and not INT_MIN <= value <= INT_MAX:
        raise BadField(f"'{name}' must be from {INT_MIN} to {INT_MAX}")
    return value
