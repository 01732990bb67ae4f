"""Fusion, the decision, and calibration on labelled evidence."""
from __future__ import annotations

import pytest

from suggest.calibration import Sample, fit_group
from suggest.matching.fusion import (
    Candidate,
    Thresholds,
    decide,
    dense_scale,
    dump_table,
    load_table,
    thresholds_for,
)

RANGE = (0.2, 0.8)


def test_dense_scale_clips_to_the_encoders_range() -> None:
    assert dense_scale(0.1, RANGE) == 0.0 and dense_scale(0.9, RANGE) == 1.0
    assert dense_scale(0.5, RANGE) == pytest.approx(0.5)


def test_weight_moves_the_ranking_between_retrievers() -> None:
    def ranked(weight: float) -> list[int]:
        cands = [Candidate(1, dense=0.8, coverage=0.1), Candidate(2, dense=0.4, coverage=1.0)]
        return [c.version_id for c in decide(cands, RANGE, Thresholds(weight=weight)).ranked]

    assert ranked(1.0) == [1, 2]
    assert ranked(0.0) == [2, 1]


def test_confidence_needs_score_and_margin() -> None:
    t = Thresholds(weight=1.0, answer=0.4, high=0.7, margin=0.1)
    clear = decide([Candidate(1, dense=0.8), Candidate(2, dense=0.4)], RANGE, t)
    assert clear.outcome == "answer" and [c.confidence for c in clear.ranked] == ["high", "low"]
    close = decide([Candidate(1, dense=0.8), Candidate(2, dense=0.77)], RANGE, t)
    assert close.ranked[0].confidence == "medium"  # too close to the runner-up to be sure
    nothing = decide([Candidate(1, dense=0.3)], RANGE, t)
    assert nothing.outcome == "no_match" and nothing.ranked[0].confidence == "low"
    assert decide([], RANGE, t).outcome == "no_match"


def test_thresholds_lookup_prefers_the_most_specific() -> None:
    table = {"*": Thresholds(answer=0.1), "he": Thresholds(answer=0.2), "m|he": Thresholds(answer=0.3)}
    assert thresholds_for(table, "m", "he").answer == 0.3
    assert thresholds_for(table, "other", "he").answer == 0.2
    assert thresholds_for(table, "m", "en").answer == 0.1


def test_thresholds_round_trip_through_json() -> None:
    table = load_table('{"he": {"weight": 0.3, "answer": 0.5, "high": 0.7, "margin": 0.05}}')
    assert table["he"] == Thresholds(0.3, 0.5, 0.7, 0.05)
    assert load_table(dump_table(table)) == table
    with pytest.raises(ValueError):
        load_table("[1]")


def test_calibration_separates_answerable_from_unanswerable() -> None:
    samples = []
    for i in range(20):
        # Right answers have strong dense and lexical evidence; unanswerable ones weak.
        samples.append(Sample({f"e{i}"}, "answer", [(f"e{i}", 0.7 + i * 0.01, 0.8), ("x", 0.3, 0.1)]))
        samples.append(Sample(set(), "no_match", [("y", 0.2 + i * 0.005, 0.2)]))
    t = fit_group(samples)
    refused = {"answer": 0, "no_match": 0}
    for s in samples:
        top = max(t.weight * d + (1 - t.weight) * min(c, 1.0) for _, d, c in s.candidates)
        refused[s.expected] += top < t.answer
    assert refused["answer"] <= 2  # at most 10% of the 20 answerable ones
    assert refused["no_match"] == 20  # and every unanswerable one, since they all score lower
    assert t.high >= t.answer


def test_calibration_picks_the_retriever_that_ranks_right() -> None:
    # Dense evidence points to the wrong entry, lexical to the right one: the weight must lean lexical.
    samples = [Sample({"right"}, "answer", [("right", 0.1, 0.9), ("wrong", 0.9, 0.5)]) for _ in range(10)]
    assert fit_group(samples).weight < 1 / 3  # only a lexical-leaning weight ranks "right" first
