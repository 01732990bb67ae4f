"""Normalisation and BM25: Hebrew niqqud, geresh, final letters and prefixes; English stemming."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from suggest.matching.lexical import (
    Bm25Index,
    analyse,
    detect_language,
    hebrew_variants,
    normalise,
    stem_en,
    terms,
)


def test_niqqud_and_cantillation_are_stripped() -> None:
    assert normalise("שָׁלוֹם") == "שלומ"  # points gone, final mem unified


def test_final_letters_are_unified() -> None:
    assert normalise("ךםןףץ") == "כמנפצ"


def test_geresh_and_gershayim_join_the_word() -> None:
    assert normalise('צ׳יפס') == normalise("צ'יפס") == "ציפס"
    assert normalise('ת"א') == normalise("ת״א") == "תא"
    assert normalise("דו\"ח") == "דוח"


def test_maqaf_and_dashes_split_words() -> None:
    assert normalise("בית־ספר").split() == ["בית", "ספר"]
    assert normalise("e-mail").split() == ["e", "mail"]


def test_hebrew_prefixes_give_every_stem() -> None:
    assert hebrew_variants("ובבית") == ["ובבית", "בבית", "בית"]
    assert hebrew_variants("כשהראוטר") == ["כשהראוטר", "שהראוטר", "הראוטר", "ראוטר"]
    assert hebrew_variants("לכשתגיע") == ["לכשתגיע", "כשתגיע", "תגיע"]  # "לכ" is no prefix
    assert hebrew_variants("בו") == ["בו"]  # a stem keeps at least two letters


def test_a_prefix_form_matches_the_bare_word() -> None:
    assert "ראוטר" in terms("ולראוטר")
    assert "חשבונית" in terms("בחשבונית")


def test_english_light_stemming() -> None:
    assert [stem_en(w) for w in ["routers", "charges", "charged", "charging", "policies", "quickly", "boss"]] == [
        "router", "charg", "charg", "charg", "policy", "quick", "boss"]


def test_stop_words_are_dropped_but_can_be_kept() -> None:
    assert analyse("how do I pay the bill") == [["pay"], ["bill"]]
    assert [f[0] for f in analyse("going to the press", keep_stop=True)] == ["going", "to", "the", "press"]


def test_language_detection_by_script() -> None:
    assert detect_language("איך משלמים?") == "he"
    assert detect_language("How do I pay?") == "en"
    assert detect_language("Как оплатить счёт?") == "ru"
    assert detect_language("كيف أدفع الفاتورة؟") == "ar"
    assert detect_language("ראוטר TP-Link לא עובד") == "he"
    assert detect_language("12345", default="he") == "he"


def test_bm25_ranks_the_right_document_and_reports_coverage() -> None:
    index = Bm25Index()
    index.add(1, "How do I restart my router")
    index.add(2, "How do I pay my bill")
    index.add(3, "איך מאתחלים את הראוטר")
    hits = index.search("restart router")
    assert hits[0].key == 1 and hits[0].coverage > 0.8
    assert index.search("ולראוטר שלי")[0].key == 3
    assert index.search("weather in paris") == []


def test_bm25_add_remove_and_filter() -> None:
    index = Bm25Index()
    index.add(1, "pay the bill online")
    index.add(2, "pay the bill by phone")
    assert {h.key for h in index.search("pay bill")} == {1, 2}
    assert [h.key for h in index.search("pay bill", keys=[2])] == [2]
    index.remove(1)
    assert [h.key for h in index.search("pay bill")] == [2]
    index.add(2, "something else")
    assert index.search("pay bill") == []


@given(st.text(max_size=300))
def test_normalising_and_searching_never_crash(text: str) -> None:
    normalise(text)
    analyse(text, keep_stop=True)
    index = Bm25Index()
    index.add(1, text)
    index.add(2, "router bill ראוטר")
    for hit in index.search(text):
        assert hit.score > 0 and hit.key in (1, 2)


@given(st.text(alphabet=st.characters(min_codepoint=0x0590, max_codepoint=0x05FF), max_size=60))
def test_hebrew_normalisation_is_idempotent(text: str) -> None:
    assert normalise(normalise(text)) == normalise(text)


def test_hebrew_endings_meet_the_bare_word() -> None:
    assert "תור" in hebrew_variants("התורימ")  # התורים after final-letter folding
    assert "תרופ" in hebrew_variants("תרופה") and "תרופ" in hebrew_variants("תרופות")
    assert "ביטל" in hebrew_variants("ביטלתי")
    assert hebrew_variants("ים") == ["ים"]  # too short to lose an ending


def test_a_form_without_its_ending_counts_less_than_the_word_itself() -> None:
    index = Bm25Index()
    index.add(1, "התרופות שלי")
    index.add(2, "תרופה אחרת")
    index.add(3, "משהו אחר לגמרי")
    hits = {h.key: h.score for h in index.search("תרופה")}
    assert set(hits) == {1, 2} and hits[2] > hits[1]
