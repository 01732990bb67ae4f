"""Render the benchmark results in bench/results/ as the Markdown tables of BENCHMARKS.md.

    .venv/bin/python -m bench.report
"""
from __future__ import annotations

import json
import sys

from bench import common

MODES = ("pipeline", "bm25", "minilm", "e5", "haystack")
NAMES = {"pipeline": "**Vetted**", "bm25": "BM25", "minilm": "MiniLM cosine", "e5": "e5 cosine",
         "haystack": "Haystack (MiniLM)"}


def _fmt(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}" if value < 10 else f"{value:.1f}"
    return str(value)


def quality() -> str:
    """One row per set and language: P@1 of each mode, then the pipeline's decision metrics."""
    lines = ["| set | lang | queries | " + " | ".join(f"P@1 {NAMES[m]}" for m in MODES) +
             " | MRR (ours) | R@5 (ours) | answerable → no match | no-match accuracy |",
             "|---|---|---|" + "---|" * (len(MODES) + 4)]
    for path in sorted(common.RESULTS.glob("quality-*.json")):
        data = json.loads(path.read_text())
        for lang, modes in sorted(data["langs"].items()):
            ours = modes.get("pipeline", {})
            best_other = max((modes[m]["p_at_1"] or 0) for m in MODES[1:] if m in modes)
            cells = []
            for m in MODES:
                value = modes.get(m, {}).get("p_at_1")
                text = _fmt(value)
                if m == "pipeline" and value is not None and value >= best_other:
                    text = f"**{text}**"
                cells.append(text)
            lines.append(f"| {data['set']} | {lang} | {ours.get('n_queries', '')} | " + " | ".join(cells) +
                         f" | {_fmt(ours.get('mrr'))} | {_fmt(ours.get('recall_at_5'))} | "
                         f"{_fmt(ours.get('answerable_no_match_rate'))} | {_fmt(ours.get('no_match_accuracy'))} |")
    return "\n".join(lines)


def latency() -> str:
    """The speed table."""
    path = common.RESULTS / "latency.json"
    if not path.exists():
        return "(run bench.latency)"
    rows = json.loads(path.read_text())["results"]
    keys = ["entries", "encode_ms_p50", "suggest_ms_p50", "suggest_ms_p99", "suggest_over_encode", "p99_over_p50",
            "haystack_ms_p50", "haystack_ms_p99", "approval_visible_ms", "cold_start_s"]
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(_fmt(r.get(k)) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


def main() -> int:
    print("## Quality\n")
    print(quality())
    print("\n## Speed\n")
    print(latency())
    return 0


if __name__ == "__main__":
    sys.exit(main())
