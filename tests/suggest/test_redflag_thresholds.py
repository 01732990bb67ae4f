"""How the red-flag trainer picks its thresholds: within the false-positive budgets, one per kind when that helps."""
from __future__ import annotations

import numpy as np

from bench import train_redflags


def _rows(kinds: list[list[str]], groups: list[str]) -> list[dict]:
    return [{"text": "", "lang": "en", "kinds": k, "group": g} for k, g in zip(kinds, groups, strict=True)]


def test_a_kind_without_look_alikes_gets_a_lower_threshold_than_the_common_one() -> None:
    # Two kinds (columns): press red flags score 0.6, privacy ones 0.9; one routine message scores 0.8 on privacy.
    n_routine = 200
    probs = np.zeros((4 + n_routine, 2))
    probs[0:2, 0] = 0.6  # press
    probs[2:4, 1] = 0.9  # privacy
    probs[4, 1] = 0.8  # an ordinary question that looks like a privacy complaint
    rows = _rows([["press"]] * 2 + [["privacy"]] * 2 + [[]] * n_routine, ["red_flag"] * 4 + ["routine"] * n_routine)
    common = train_redflags.pick_threshold(probs, rows)
    assert common == 0.3  # one false positive in 200 is within 1%
    limits = train_redflags.pick_kind_thresholds(probs, rows, start=0.85)
    assert limits[0] <= 0.6 < 0.8 < limits[1] <= 0.9  # press reaches its red flags; privacy stays above the look-alike
    flagged = (probs >= limits).any(axis=1)
    assert flagged[:4].all() and train_redflags.within_budget(flagged, rows)


def test_the_budget_counts_routine_messages_apart() -> None:
    rows = _rows([[]] * 100 + [[]] * 100, ["routine"] * 100 + ["angry"] * 100)
    two_routine = np.zeros(200, dtype=bool)
    two_routine[:2] = True  # 2% of routine, 1% of all negatives
    assert not train_redflags.within_budget(two_routine, rows)
    two_angry = np.zeros(200, dtype=bool)
    two_angry[100:102] = True
    assert train_redflags.within_budget(two_angry, rows)
