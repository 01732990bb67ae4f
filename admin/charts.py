"""Small server-rendered SVG charts: no script, so the page's CSP stays strict. Labels are escaped.

The chart is laid out in the page's direction: in Hebrew the value axis is on the right, the first bar is on the
right and the legend reads from the right. Coordinates are computed here, so the SVG itself is fixed left to right
(a right-to-left page would otherwise flip every text anchor and push the axis numbers under the bars).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

from web.i18n import RTL, current_language, gettext, number
from web.labels import label

COLOURS = {"answer": "#13794b", "no_match": "#9a6700", "escalate": "#b42318", "met": "#13794b",
           "missed": "#b42318", "open": "#6b7280", "in_time": "#13794b", "late": "#b42318",
           "no_reply": "#6b7280"}
CHAR_WIDTH = 7.2  # 11px DejaVu Sans, generous, so legend items never run into each other
AXIS = 48  # room for the value axis numbers


def _text(x: float, y: float, text: str, anchor: str, lang: str) -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" direction="ltr" '
            f'unicode-bidi="plaintext" lang="{lang}">{escape(text)}</text>')


def stacked_bars(labels: Sequence[str], series: Mapping[str, Sequence[int]], *, title: str, width: int = 720,
                 height: int = 240) -> Markup:
    """Return a stacked bar chart, one bar per label, one colour per series, with a legend, in the page's language."""
    lang = current_language()
    rtl = lang in RTL
    title = gettext(title)
    n = max(len(labels), 1)
    totals = [sum(values[i] for values in series.values()) for i in range(len(labels))]
    top = max(totals + [1])
    legend_h, bottom = 28, 30
    plot_h = height - legend_h - bottom - 8
    plot_w = width - AXIS - 10
    bar_w = max(2.0, plot_w / n - 2)

    def x_of(offset: float, w: float = 0.0) -> float:
        """Return the left edge of something `offset` from the axis side, `w` wide, mirrored for RTL."""
        return width - AXIS - offset - w if rtl else AXIS + offset

    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg" style="direction:ltr"><title>{escape(title)}</title>']
    for tick in sorted({0, round(top / 2), top}):
        y = height - bottom - plot_h * tick / top
        parts.append(f'<line x1="{AXIS if not rtl else 10}" x2="{width - 10 if not rtl else width - AXIS}" '
                     f'y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>')
        tx, anchor = (width - AXIS + 6, "start") if rtl else (AXIS - 6, "end")
        parts.append(_text(tx, y + 4, number(tick, lang), anchor, lang))
    every = 1 if n <= 16 else max(1, n // 8)
    for i, name_label in enumerate(labels):
        x = x_of(i * (bar_w + 2), bar_w)
        y = height - bottom
        for name, values in series.items():
            h = plot_h * values[i] / top
            if h:
                y -= h
                words = gettext(label("outcome", name))
                parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                             f'fill="{COLOURS.get(name, "#0b5cad")}"><title>{escape(name_label)}: {escape(words)} '
                             f'{number(values[i], lang)}</title></rect>')
        if i % every == 0:
            parts.append(_text(x + bar_w / 2, height - bottom + 16, name_label, "middle", lang))
    offset = 0.0
    for name in series:
        words = gettext(label("outcome", name))
        item_w = 14 + CHAR_WIDTH * len(words)
        box_x = x_of(offset, 10)
        text_x, anchor = (box_x - 4, "end") if rtl else (box_x + 14, "start")
        parts.append(f'<rect class="legend-key" x="{box_x:.1f}" y="8" width="10" height="10" '
                     f'fill="{COLOURS.get(name, "#0b5cad")}"/>')
        parts.append(_text(text_x, 17, words, anchor, lang))
        offset += item_w + 22
    parts.append("</svg>")
    return Markup("".join(parts))
