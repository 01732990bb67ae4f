"""static/js/suggestions.js against the server: X's weighted length counted alike, and every word it asks for in
both catalogues (the agent page's and the extension's), in Hebrew and English."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from kb.content import weighted_length
from kb.redflags import KINDS
from suggest.agent import extension
from suggest.agent.page_text import PAGE_TEXT
from web.i18n import translate

STATIC = Path(__file__).resolve().parents[1] / "static"
MODULE = STATIC / "js" / "suggestions.js"
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed; the JavaScript side cannot be run")

TRICKY = [
    "",
    "a",
    "שלום, הראוטר לא עובד",
    "הַרְאוּטֶר",  # Hebrew points are combining marks
    "e\u0301 cafe\u0301 Ame\u0301lie",  # decomposed accents: one character each once composed
    "\u1100\u1161\u11a8",  # conjoining jamo compose to one Hangul syllable
    "日本語のテキスト", "中文字符", "한국어",
    "😀", "👍🏽", "👨‍👩‍👧", "🇮🇱", "❤️",
    "https://example.com", "see https://galim.co.il/help?x=1 and http://a.b/c", "HTTPS://EXAMPLE.COM/PATH",
    "httpſ://long-s.example", "https://", "https:/not-a-url", "ftp://x.y",
    "url https://x.com/a\u00a0then text", "url https://x.com/a\u3000then", "url https://x.com/a\ufeffthen",
    "url https://x.com/a\x1cthen", "url https://x.com/a\x85then", "url https://x.com/a\u2028then",
    "mixed עברית English 中文 😀 https://t.co/x",
    "\u2010\u2013\u2014\u2019\u201c\u201d\u2032\u2026", "\u200d\u200c\u200b\u2028",
    "\ufeffbom", "\t\n\r", "\U0001f600" * 140,
    "\ud800 lone surrogate",
    "א" * 280, "x" * 281,
]


def _node(script: str, payload: object) -> object:
    assert NODE is not None
    done = subprocess.run([NODE, "--input-type=module", "-e", script, MODULE.as_uri()], input=json.dumps(payload),
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@needs_node
def test_python_and_javascript_count_x_length_alike() -> None:
    script = """
        import { readFileSync } from "node:fs";
        const { xLength } = await import(process.argv[1]);
        const texts = JSON.parse(readFileSync(0, "utf8"));
        process.stdout.write(JSON.stringify(texts.map(xLength)));
    """
    counted = _node(script, TRICKY)
    mismatches = [(text, py, js) for text, py, js in zip(TRICKY, map(weighted_length, TRICKY), counted, strict=True)
                  if py != js]
    assert not mismatches


@pytest.mark.parametrize(("text", "expected"), [
    ("", 0), ("שלום", 4), ("日本", 4), ("😀", 2), ("https://example.com/a/very/long/path?with=query", 23),
    ("e\u0301", 1), ("a https://x.co b", 27), ("httpſ://x", 9),
])
def test_x_length_counts_as_x_does(text: str, expected: int) -> None:
    assert weighted_length(text) == expected


@needs_node
def test_every_word_the_module_asks_for_is_in_both_catalogues() -> None:
    script = """
        const { KEYS } = await import(process.argv[1]);
        // The extension's i18n.js reads this catalogue; the build copies it in next to it.
        const { CATALOGUE } = await import(new URL("./catalogue.js", process.argv[1]));
        process.stdout.write(JSON.stringify({ keys: KEYS, en: CATALOGUE.en, he: CATALOGUE.he }));
    """
    found = _node(script, None)
    assert isinstance(found, dict)
    keys = [*found["keys"], *(f"kind_{kind}" for kind in KINDS)]
    assert {"high", "medium", "low", "escalate", "noMatch", "copy"} <= set(keys)
    for key in keys:
        assert key in found["en"] and key in found["he"], f"extension catalogue lacks {key}"
        assert key in PAGE_TEXT, f"agent page catalogue lacks {key}"
        english = PAGE_TEXT[key]
        assert translate(english, "he") != english, f"no Hebrew for the agent page's {english!r}"


def test_the_extension_build_carries_the_one_copy_of_the_module(tmp_path: Path) -> None:
    files = extension.build(str(tmp_path), "https://vetted.example")
    assert files["suggestions.js"] == MODULE.read_bytes()
    assert files["catalogue.js"] == (STATIC / "js" / "catalogue.js").read_bytes()
    popup = files["popup.js"].decode()
    assert 'from "./suggestions.js"' in popup


def test_the_site_scripts_build_markup_only_from_elements() -> None:
    for js in (STATIC / "js").glob("*.js"):
        text = js.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in text, f"{js.name} uses {sink}"
