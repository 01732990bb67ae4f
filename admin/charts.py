"""Small server-rendered SVG charts: no script, so the page's CSP stays strict. Labels are escaped."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

COLOURS = {"answer": "#13794b", "no_match": "#9a6700", "escalate": "#b42318", "met": "#13794b",
           "missed": "#b42318", "open": "#6b7280"}


def stacked_bars(labels: Sequence[str], series: Mapping[str, Sequence[int]], *, title: str, width: int = 720,
                 height: int = 220) -> Markup:
    """Return a stacked bar chart, one bar per label, one colour per series, with a legend."""
    n = max(len(labels), 1)
    totals = [sum(values[i] for values in series.values()) for i in range(len(labels))]
    top = max(totals + [1])
    left, bottom, plot_h = 36, 30, height - 60
    bar_w = max(2, (width - left - 10) / n - 2)
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for tick in (0, top / 2, top):
        y = height - bottom - plot_h * tick / top
        parts.append(f'<line x1="{left}" x2="{width - 5}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>'
                     f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{tick:.0f}</text>')
    for i, label in enumerate(labels):
        x = left + i * (bar_w + 2)
        y = height - bottom
        for name, values in series.items():
            h = plot_h * values[i] / top
            if h:
                y -= h
                parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                             f'fill="{COLOURS.get(name, "#0b5cad")}"><title>{escape(label)}: {escape(name)} '
                             f'{values[i]}</title></rect>')
        if n <= 16 or i % max(1, n // 8) == 0:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{height - bottom + 14}" text-anchor="middle">'
                         f'{escape(label)}</text>')
    lx = left
    for name in series:
        parts.append(f'<rect x="{lx}" y="6" width="10" height="10" fill="{COLOURS.get(name, "#0b5cad")}"/>'
                     f'<text x="{lx + 14}" y="15">{escape(name.replace("_", " "))}</text>')
        lx += 14 + 8 * len(name) + 16
    parts.append("</svg>")
    return Markup("".join(parts))
