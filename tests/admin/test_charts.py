"""Charts are laid out in the page's direction: in Hebrew the value axis and the first bar sit on the right."""
from __future__ import annotations

import re

from admin import charts


def _draw(app, lang: str) -> str:
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        return str(charts.stacked_bars(["1.11", "2.11", "3.11"], {"met": [1, 2, 3], "missed": [0, 1, 0]},
                                       title="Response times per department"))


def _texts(svg: str) -> list[tuple[float, str, str]]:
    return [(float(x), anchor, text) for x, anchor, text in
            re.findall(r'<text x="([\d.]+)" y="[\d.]+" text-anchor="(\w+)"[^>]*>([^<]*)</text>', svg)]


def test_hebrew_chart_is_mirrored(app) -> None:
    svg = _draw(app, "he")
    assert 'style="direction:ltr"' in svg  # coordinates are ours, not flipped again by the page's direction
    texts = _texts(svg)
    bars = [float(x) for x in re.findall(r'<rect x="([\d.]+)" y="[\d.]+" width="[\d.]+" height="[\d.]+" fill', svg)]
    axis = [x for x, _anchor, text in texts if text in ("0", "2", "3")]
    assert axis and min(axis) > max(bars)  # the value axis is right of every bar
    days = {text: x for x, _anchor, text in texts if "." in text}
    assert days["1.11"] > days["2.11"] > days["3.11"]  # the first day on the right
    assert "עמד ביעד" in svg and "זמני תגובה לפי מחלקה" in svg


def test_english_chart_reads_left_to_right(app) -> None:
    texts = _texts(_draw(app, "en"))
    days = {text: x for x, _anchor, text in texts if "." in text}
    assert days["1.11"] < days["2.11"] < days["3.11"]
    legend = [(x, anchor) for x, anchor, text in texts if text in ("met", "missed")]
    assert [a for _x, a in legend] == ["start", "start"] and legend[0][0] < legend[1][0]
