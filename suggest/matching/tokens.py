"""Cut a text to its first tokens, for any tokenizer that can count them."""
from __future__ import annotations

import re
from collections.abc import Callable


def cut_to_tokens(text: str, limit: int, count: Callable[[str], int]) -> str:
    """Return the longest prefix of `text` that `count` puts within `limit` tokens, cut at a word break if any fits."""
    if limit <= 0:
        return text
    # Tokenizing costs time in proportion to the text: when the first 16 characters a token hold too many tokens
    # already, the cut lies inside them (a prefix never has fewer tokens than a shorter prefix).
    window = text[: limit * 16]
    if len(window) < len(text) and count(window) > limit:
        text = window
    elif count(text) <= limit:
        return text
    ends = [m.start() for m in re.finditer(r"\s+", text) if m.start() > 0]
    best = _longest_fitting(text, ends, limit, count)
    if best == 0:  # not even the first word fits: cut inside it
        best = _longest_fitting(text, list(range(1, len(text))), limit, count)
    return text[:best]


def _longest_fitting(text: str, ends: list[int], limit: int, count: Callable[[str], int]) -> int:
    # Token counts grow with the prefix, so a binary search needs about log2(len(ends)) tokenizer calls.
    low, high, best = 0, len(ends) - 1, 0
    while low <= high:
        middle = (low + high) // 2
        if count(text[: ends[middle]]) <= limit:
            best, low = ends[middle], middle + 1
        else:
            high = middle - 1
    return best
