"""Language-aware lexical retrieval: normalisation (Hebrew prefixes, final letters, niqqud) and BM25."""
from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix

_NIQQUD = re.compile(r"[\u0591-\u05BD\u05BF-\u05C7]")  # points and cantillation; maqaf (05BE) handled apart
_TASHKEEL = re.compile(r"[\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06ED\u0640]")
_FINALS = str.maketrans({"ך": "כ", "ם": "מ", "ן": "נ", "ף": "פ", "ץ": "צ"})
_ARABIC = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ى": "ي", "ة": "ه"})
# Geresh and gershayim (and the ASCII quotes typed for them) join a word: צ'יפס, ת"א, דו"ח.
_JOINERS = re.compile(r"(?<=[\u05D0-\u05EA])[\u05F3\u05F4'\"`´’״׳](?=[\u05D0-\u05EA])")
_DASHES = re.compile(r"[\u05BE\-–—_/]")
_TOKEN = re.compile(r"\w+", re.UNICODE)
_HEBREW = re.compile(r"[\u05D0-\u05EA]")
_ARABIC_SCRIPT = re.compile(r"[\u0600-\u06FF]")
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")
_LATIN = re.compile(r"[A-Za-z]")
# One-letter Hebrew prefixes and the usual combinations: ו, ש/כש/מש/לכש, then one of ה ב כ ל מ.
_HE_PREFIX = re.compile(r"^(ו?(?:ש|כש|מש|לכש)?[הבכלמ]?)")
_HE_MIN_STEM = 2
# Endings after final-letter folding, longest first: plural, possessive, past tense.
_HE_SUFFIXES = ("ותי", "יכמ", "ימ", "ות", "תי", "נו", "כמ", "המ", "ה", "י")
_HE_MIN_SUFFIX_STEM = 3

EN_STOP = frozenset(
    "a an the is are was were be been am i me my we our you your he she it its they them their this that these "
    "those to of in on at for with by from and or but if so do does did can could would should will shall may "
    "might have has had what which who whom how when where why there here as about into than then too very just "
    "please hi hello thanks thank".split()
)
HE_STOP = frozenset(
    "של את על עם זה זו זאת אני אתה את אתם אתן הוא היא הם הן אנחנו יש אין לא כן גם רק או אם כי מה איך מתי "
    "איפה למה כמה האם אבל כל עוד כבר היה היתה הייתה יהיה להיות שלי שלך שלכם לי לך לכם לנו אותי אותו אותה".split()
)


def detect_language(text: str, default: str = "en") -> str:
    """Guess the language of a message from its script (Hebrew, Arabic, Cyrillic, Latin)."""
    counts = {
        "he": len(_HEBREW.findall(text)),
        "ar": len(_ARABIC_SCRIPT.findall(text)),
        "ru": len(_CYRILLIC.findall(text)),
        "en": len(_LATIN.findall(text)),
    }
    best = max(counts, key=lambda k: counts[k])
    return best if counts[best] else default


def normalise(text: str) -> str:
    """Fold a text for matching: NFKC, case, niqqud/tashkeel, geresh, final letters, dashes."""
    text = unicodedata.normalize("NFKC", text)
    text = _NIQQUD.sub("", text)
    text = _TASHKEEL.sub("", text)
    text = _JOINERS.sub("", text)
    text = _DASHES.sub(" ", text)
    text = text.casefold().translate(_FINALS).translate(_ARABIC)
    return text.replace("ё", "е")


def stem_en(word: str) -> str:
    """Strip common English inflections (a light stemmer: plurals, -ing, -ed, -ly)."""
    if len(word) <= 3 or not word.isascii():
        return word
    for suffix, repl, keep in (("ies", "y", 3), ("sses", "ss", 3), ("ing", "", 4), ("edly", "", 4),
                               ("ed", "", 4), ("ly", "", 4), ("es", "", 4), ("s", "", 3)):
        if word.endswith(suffix) and len(word) - len(suffix) >= keep - 1:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                break
            if suffix == "es" and not word.endswith(("shes", "ches", "xes", "zes", "sses")):
                continue
            word = word[: len(word) - len(suffix)] + repl
            break
    # charge, charges, charged and charging all meet at "charg".
    return word[:-1] if len(word) > 4 and word.endswith("e") else word


def hebrew_variants(token: str, endings: bool = True) -> list[str]:
    """Return a Hebrew token, its forms without one-letter prefixes (ובבית -> בבית, בית) and, for each, the form
    without a plural, possessive or past-tense ending (התורים -> תור, הכרטיסים -> כרטיס, ביטלתי -> ביטל)."""
    forms = [token]
    match = _HE_PREFIX.match(token)
    prefix = match.group(1) if match else ""
    for cut in range(1, len(prefix) + 1):
        stem = token[cut:]
        if len(stem) >= _HE_MIN_STEM and _HE_PREFIX.fullmatch(token[:cut]):
            forms.append(stem)
    for form in list(forms) if endings else []:
        for suffix in _HE_SUFFIXES:
            if form.endswith(suffix) and len(form) - len(suffix) >= _HE_MIN_SUFFIX_STEM:
                stem = form[: -len(suffix)]
                if stem not in forms:
                    forms.append(stem)
                break
    return forms


def analyse(text: str, keep_stop: bool = False, endings: bool = True) -> list[list[str]]:
    """Split a text into tokens, each as its list of forms (the first is the form as written).

    Without `endings`, Hebrew forms keep their endings: rules matched word for word (red flags) use that.
    """
    out: list[list[str]] = []
    for token in _TOKEN.findall(normalise(text)):
        if not keep_stop and (token in EN_STOP or token in HE_STOP):
            continue
        if _HEBREW.match(token):
            out.append(hebrew_variants(token, endings))
        else:
            stemmed = stem_en(token)
            out.append([stemmed])
    return out


def terms(text: str) -> Counter[str]:
    """Return the indexed terms of a text with their counts (every form of every token)."""
    counts: Counter[str] = Counter()
    for forms in analyse(text):
        counts.update(forms)
    return counts


@dataclass
class LexicalHit:
    key: int
    score: float  # BM25
    coverage: float  # BM25 over the best a document could score for this query: about 0..1


class Bm25Index:
    """BM25 over documents keyed by an int; documents can be added and removed at any time."""

    def __init__(self, k1: float = 1.2, b: float = 0.75, variant_weight: float = 0.6,
                 ending_weight: float = 0.3) -> None:
        self.k1 = k1
        self.b = b
        self.variant_weight = variant_weight
        self.ending_weight = ending_weight
        self._docs: dict[int, Counter[str]] = {}
        self._dirty = True
        self._keys: np.ndarray = np.zeros(0, dtype=np.int64)
        self._vocab: dict[str, int] = {}
        self._idf: np.ndarray = np.zeros(0)
        self._matrix: csr_matrix | None = None

    def __len__(self) -> int:
        return len(self._docs)

    def add(self, key: int, text: str) -> None:
        """Index (or re-index) a document."""
        self._docs[key] = terms(text)
        self._dirty = True

    def remove(self, key: int) -> None:
        """Forget a document."""
        if self._docs.pop(key, None) is not None:
            self._dirty = True

    def _build(self) -> None:
        keys = list(self._docs)
        df: Counter[str] = Counter()
        for counts in self._docs.values():
            df.update(counts.keys())
        vocab = {t: i for i, t in enumerate(df)}
        n = max(len(keys), 1)
        idf = np.array([math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5)) for t in vocab], dtype=np.float32)
        lengths = np.array([sum(c.values()) for c in self._docs.values()], dtype=np.float32)
        avg = float(lengths.mean()) if len(lengths) else 1.0
        rows, cols, vals = [], [], []
        for row, counts in enumerate(self._docs.values()):
            norm = self.k1 * (1 - self.b + self.b * lengths[row] / avg)
            for term, tf in counts.items():
                col = vocab[term]
                rows.append(row)
                cols.append(col)
                vals.append(idf[col] * tf * (self.k1 + 1) / (tf + norm))
        self._matrix = csr_matrix((vals, (rows, cols)), shape=(len(keys), len(vocab)), dtype=np.float32)
        self._keys = np.array(keys, dtype=np.int64)
        self._vocab = vocab
        self._idf = idf
        self._dirty = False

    def search(self, text: str, k: int = 50, keys: Iterable[int] | None = None) -> list[LexicalHit]:
        """Return the k best documents for `text`, optionally only among `keys`."""
        if self._dirty:
            self._build()
        if self._matrix is None or not self._docs:
            return []
        weights: dict[int, float] = {}
        ideal = 0.0
        max_idf = float(self._idf.max()) if len(self._idf) else 1.0
        for forms in analyse(text):
            best = 0.0
            for i, form in enumerate(forms):
                col = self._vocab.get(form)
                if col is None:
                    continue
                # A form without a prefix is the same word; one without an ending may be another word.
                w = 1.0 if i == 0 else self.variant_weight if forms[0].endswith(form) else self.ending_weight
                weights[col] = max(weights.get(col, 0.0), w)
                best = max(best, w * float(self._idf[col]))
            ideal += best if best else max_idf
        if not weights:
            return []
        query = np.zeros(len(self._vocab), dtype=np.float32)
        for col, w in weights.items():
            query[col] = w
        scores = self._matrix @ query
        if keys is not None:
            wanted = np.isin(self._keys, np.fromiter(keys, dtype=np.int64))
            scores = np.where(wanted, scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [
            LexicalHit(int(self._keys[i]), float(scores[i]), float(scores[i]) / ideal)
            for i in top
            if scores[i] > 0
        ]
