"""Regular expressions in red-flag rules and crises, run by RE2: time linear in the message, whatever the pattern.

Python's own engine backtracks, so one pattern such as (x+)+y could hold every question for seconds. RE2 refuses
what it cannot run in linear time (look-around, back-references) when a pattern is saved, with the reason.
"""
from __future__ import annotations

import re
from typing import Protocol

import re2

MAX_PATTERN = 500
# RE2's \w is ASCII only; messages are in Hebrew and Arabic too, so word classes mean letters of every script.
_UNICODE_CLASSES = {"w": r"[\p{L}\p{N}_]", "W": r"[^\p{L}\p{N}_]"}
_INSIDE_CLASS = {"w": r"\p{L}\p{N}_"}
# A \b next to a letter of another script never matches under RE2 (its word boundary is ASCII), so say so at save.
_ASCII_BOUNDARY_MISUSE = re.compile(r"(?<!\\)(?:\\\\)*\\[bB](?=[^\x00-\x7f])|[^\x00-\x7f]\\[bB]")
_FOLD = str.maketrans({"ך": "כ", "ם": "מ", "ן": "נ", "ף": "פ", "ץ": "צ", "׳": "'", "״": '"'})


class Matcher(Protocol):
    """What callers use of a compiled pattern."""

    def search(self, text: str):  # type: ignore[no-untyped-def]  # noqa: ANN201 - RE2's match object
        """Return the first match in `text`, or None."""


def fold(pattern: str) -> str:
    """Fold a pattern like message text (final letters, geresh) without breaking its syntax."""
    return pattern.translate(_FOLD)


def _unicode_word_classes(pattern: str) -> str:
    out, i, in_class = [], 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if nxt == "w" and in_class:
                out.append(_INSIDE_CLASS["w"])
            elif nxt in _UNICODE_CLASSES and not in_class:
                out.append(_UNICODE_CLASSES[nxt])
            else:
                out.append(ch + nxt)
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
            out.append(ch)
            if pattern[i + 1: i + 2] == "^":
                out.append("^")
                i += 1
            if pattern[i + 1: i + 2] == "]":  # a leading ] is a literal inside a class
                out.append("]")
                i += 1
        elif ch == "]" and in_class:
            in_class = False
            out.append(ch)
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _options():  # type: ignore[no-untyped-def]  # noqa: ANN202 - re2.Options has no public type
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False  # a refused pattern is reported to whoever saved it, not to stderr
    return options


def compile_pattern(pattern: str) -> Matcher:
    """Compile a rule or crisis pattern (folded, case-insensitive); raise ValueError saying what RE2 refuses."""
    problem = check(pattern)
    if problem:
        raise ValueError(problem)
    return re2.compile(_unicode_word_classes(fold(pattern)), _options())


def check(pattern: str) -> str | None:
    """Return why a pattern cannot be used, or None."""
    if len(pattern) > MAX_PATTERN:
        return f"a pattern has at most {MAX_PATTERN} characters"
    if "\x00" in pattern:
        return "a pattern cannot contain a NUL character"
    if _ASCII_BOUNDARY_MISUSE.search(pattern):
        return r"\b only marks the edges of Latin-script words; around other words use (^|\W) and (\W|$)"
    try:
        re2.compile(_unicode_word_classes(fold(pattern)), _options())
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        return f"{reason} (look-arounds and back-references are not supported)"
    return None
