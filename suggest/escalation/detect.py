"""Red-flag detection: messages that must go to an in-house person, never to a library answer."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from kb.models import RedFlagRule
from kb.patterns import Matcher, compile_pattern
from suggest.matching.lexical import analyse, normalise

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CompiledRule:
    rule_id: int
    kind: str
    lang: str
    severity: int
    phrases: tuple[tuple[frozenset[str], ...], ...]  # each keyword: per token, the forms that match it
    patterns: tuple[Matcher, ...]


@dataclass(frozen=True)
class FlagHit:
    rule_id: int
    kind: str
    matched: str


# Abbreviations written out before matching, so that rules written in full meet them: folding drops the quote mark,
# and "עו"ד" (a lawyer) would otherwise read as "עוד" (more, again). A one- or two-letter prefix stays attached.
_ABBREVIATIONS = {"עוד": "עורך דין", "בימש": "בית משפט", "ביהמש": "בית המשפט"}
_ABBREVIATION = re.compile(r"(?<![\u05D0-\u05EA])([והבכלמש]{0,2}?)(עו|בימ|ביהמ)[\"\u05F4'\u05F3`’](ד|ש)"
                           r"(?![\u05D0-\u05EA])")


def expand_abbreviations(text: str) -> str:
    """Write out the Hebrew abbreviations rules are written in full for ("לעו"ד" -> "לעורך דין")."""
    def full(found: re.Match[str]) -> str:
        written = _ABBREVIATIONS.get(found.group(2) + found.group(3))
        return found.group(1) + written if written else found.group(0)

    return _ABBREVIATION.sub(full, text)


def compile_rule(rule: RedFlagRule) -> CompiledRule:
    """Normalise a rule's keywords and patterns the same way messages are normalised (abbreviations written out,
    so that a rule saying "עו"ד" meets a lawyer and not every "עוד")."""
    phrases = []
    for keyword in rule.keywords or []:
        tokens = tuple(_keyword_forms(forms)
                       for forms in analyse(expand_abbreviations(keyword), keep_stop=True, endings=False))
        if tokens:
            phrases.append(tokens)
    compiled = []
    for pattern in rule.patterns or []:
        try:
            compiled.append(compile_pattern(expand_abbreviations(pattern)))
        except ValueError as exc:
            # The console refuses such patterns; one saved before that must not stop detection.
            log.warning("red-flag rule %s: pattern %r skipped: %s", rule.id, pattern, exc)
    return CompiledRule(rule.id, rule.kind, rule.lang, rule.severity, tuple(phrases), tuple(compiled))


def _keyword_forms(forms: list[str]) -> frozenset[str]:
    # A message word matches through any of its prefix-stripped forms. A rule word keeps its own prefix,
    # since "לתקשורת" (to the media) is not "תקשורת" (connectivity); only the article ה is let go, so that
    # "הרשות" in a rule matches "לרשות" in a message.
    word = forms[0]
    if word.startswith("ה") and len(word) >= 4:
        return frozenset([word, word[1:]])
    return frozenset([word])


def _phrase_at(message: list[list[str]], phrase: tuple[frozenset[str], ...]) -> bool:
    n = len(phrase)
    for start in range(len(message) - n + 1):
        if all(not phrase[i].isdisjoint(message[start + i]) for i in range(n)):
            return True
    return False


def detect_all(text: str, rules: list[CompiledRule]) -> list[FlagHit]:
    """Return every rule the message trips (one hit per rule), most severe first."""
    text = expand_abbreviations(text)
    tokens = analyse(text, keep_stop=True, endings=False)
    present = {form for forms in tokens for form in forms}
    folded = normalise(text)
    hits: list[tuple[int, FlagHit]] = []
    for rule in rules:
        for phrase in rule.phrases:
            # Most phrases share no word with a message at all; skip those before scanning positions.
            if phrase[0].isdisjoint(present):
                continue
            if _phrase_at(tokens, phrase):
                hits.append((rule.severity, FlagHit(rule.rule_id, rule.kind, " ".join(min(f) for f in phrase))))
                break
        else:
            for pattern in rule.patterns:
                found = pattern.search(folded)
                if found:
                    hits.append((rule.severity, FlagHit(rule.rule_id, rule.kind, found.group(0))))
                    break
    return [hit for _, hit in sorted(hits, key=lambda h: -h[0])]


def detect(text: str, rules: list[CompiledRule]) -> FlagHit | None:
    """Return the most severe rule the message trips, or None."""
    hits = detect_all(text, rules)
    return hits[0] if hits else None
