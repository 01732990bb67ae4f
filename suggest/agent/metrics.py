"""Request counts and latency histograms by outcome, in Prometheus text format (per worker process)."""
from __future__ import annotations

import threading
from collections import defaultdict

BUCKETS_MS = (5, 10, 20, 30, 50, 75, 100, 200, 500, 1000, 2500)
_lock = threading.Lock()
_counts: dict[str, int] = defaultdict(int)
_buckets: dict[str, list[int]] = defaultdict(lambda: [0] * len(BUCKETS_MS))
_sums: dict[str, float] = defaultdict(float)


def observe(outcome: str, took_ms: float) -> None:
    """Count one suggestion and its latency."""
    with _lock:
        _counts[outcome] += 1
        _sums[outcome] += took_ms
        for i, bound in enumerate(BUCKETS_MS):
            if took_ms <= bound:
                _buckets[outcome][i] += 1


def render() -> str:
    """Return the metrics as Prometheus exposition text."""
    lines = [
        "# HELP vetted_suggest_requests_total Suggestions answered, by outcome.",
        "# TYPE vetted_suggest_requests_total counter",
    ]
    with _lock:
        for outcome, count in sorted(_counts.items()):
            lines.append(f'vetted_suggest_requests_total{{outcome="{outcome}"}} {count}')
        lines += [
            "# HELP vetted_suggest_latency_ms Time to answer one suggestion, in milliseconds.",
            "# TYPE vetted_suggest_latency_ms histogram",
        ]
        for outcome in sorted(_counts):
            for bound, hits in zip(BUCKETS_MS, _buckets[outcome], strict=True):
                lines.append(f'vetted_suggest_latency_ms_bucket{{outcome="{outcome}",le="{bound}"}} {hits}')
            lines.append(f'vetted_suggest_latency_ms_bucket{{outcome="{outcome}",le="+Inf"}} {_counts[outcome]}')
            lines.append(f'vetted_suggest_latency_ms_sum{{outcome="{outcome}"}} {_sums[outcome]:.3f}')
            lines.append(f'vetted_suggest_latency_ms_count{{outcome="{outcome}"}} {_counts[outcome]}')
    return "\n".join(lines) + "\n"
