"""Evaluation on labelled FAQ and query files, through the same code path as the API."""
from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app

from kb import accounts, content, io, owners, redflags, storage
from kb.errors import ImportFailed
from kb.workflow import Status
from suggest import engine as engine_mod
from suggest.results import SuggestRequest
from suggest.service import suggest

Progress = Callable[[int], None]
FACTORY = "vetted.factory"  # app.extensions key of the application factory, set by create_app


class EvalInputError(Exception):
    """A file the evaluation was given is missing or malformed."""


@dataclass
class QueryRow:
    query: str
    relevant: list[str]
    lang: str | None
    expected: str  # answer | no_match | escalate


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Read a JSONL file of objects, or raise EvalInputError naming the line."""
    if not path.is_file():
        raise EvalInputError(f"{path}: no such file")
    rows = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise EvalInputError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
            if not isinstance(row, dict):
                raise EvalInputError(f"{path}:{number}: each line must be a JSON object")
            rows.append(row)
    if not rows:
        raise EvalInputError(f"{path}: no rows")
    return rows


def parse_queries(path: Path) -> list[QueryRow]:
    """Read query rows: expected outcome from `expected_outcome`, else answer iff relevant ids exist."""
    out = []
    for number, row in enumerate(read_jsonl(path), start=1):
        query, relevant = row.get("query"), row.get("relevant_ids", [])
        if not isinstance(query, str) or not query.strip():
            raise EvalInputError(f"{path}:{number}: query must be non-empty text")
        if not isinstance(relevant, list):
            raise EvalInputError(f"{path}:{number}: relevant_ids must be a list")
        expected = row.get("expected_outcome") or ("answer" if relevant else "no_match")
        if expected not in ("answer", "no_match", "escalate"):
            raise EvalInputError(f"{path}:{number}: expected_outcome must be answer, no_match or escalate")
        out.append(QueryRow(query, [str(r) for r in relevant], row.get("lang"), expected))
    return out


@contextmanager
def throwaway_app(
    faq_rows: list[dict[str, Any]], *, config: dict[str, Any],
    make_app: Callable[[dict[str, Any]], Flask] | None = None,
    progress: Progress | None = None,
) -> Iterator[Flask]:
    """Yield an app over a temporary database holding `faq_rows` approved, with the default red-flag rules.

    The app is built by `make_app` (the application factory), by default the factory of the app in context.
    """
    create_app = make_app or current_app.extensions[FACTORY]
    with tempfile.TemporaryDirectory(prefix="vetted-eval-") as tmp:
        url = "sqlite:///" + os.path.join(tmp, "eval.db")
        app = create_app({**config, "DATABASE_URL": url, "SECRET_KEY": "eval", "WARM_UP": False})
        storage.migrate(url)
        with app.app_context():
            s = storage.session()
            owners.ensure_defaults(session=s)
            redflags.ensure_default_rules(session=s)
            user = accounts.create_user(session=s, username="evaluator", password="evaluation-only",
                                        role="approver")
            rows = [_faq_row(r, n) for n, r in enumerate(faq_rows, start=1)]
            try:
                io.import_rows(session=s, rows=rows, actor=user, target=Status.APPROVED, allow_self_approval=True,
                               via="evaluation", progress=progress)
            except ImportFailed as exc:
                raise EvalInputError(f"FAQ {exc.message}") from None
            yield app
        storage.database(app).engine.dispose()


def _faq_row(row: dict[str, Any], number: int) -> dict[str, Any]:
    fields = ("id", "question", "answer", "lang", "alternates", "category")
    out: dict[str, Any] = {k: row[k] for k in fields if k in row}
    if out.get("category") and out["category"] not in {c.slug for c in owners.DEFAULT_CATEGORIES}:
        out.pop("category")  # categories of an outside set are not this KB's; keep the entry uncategorised
    # Evaluation sets have no placeholders; braces in their answers (code, templates) are plain text to them.
    out["placeholders"] = sorted(content.placeholders_in([str(row.get("answer") or "")]))
    if not out.get("question"):
        # Some sets are answer-only; the first words of the answer stand in for its question.
        out["question"] = (row.get("answer") or "")[:200]
    if not out.get("answer"):
        out["answer"] = out.get("question") or ""  # and some rows lack an answer: the question stands in
    return out


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return round(ordered[idx], 3)


def _rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def evaluate(app: Flask, queries: list[QueryRow], progress: Progress | None = None) -> dict[str, Any]:
    """Run every query through the suggest service and return the contract's metrics."""
    from sqlalchemy import select

    from kb.models import Entry

    eng = engine_mod.engine(app)
    with app.app_context():
        s = storage.session()
        ext = dict(s.execute(select(Entry.id, Entry.external_id)).all())
        eng.sync(s)
        langs = sorted({q.lang or "en" for q in queries})
        eng.warm_up(langs)
        hits1, rr, hits5, answerable = 0, 0.0, 0, 0
        answerable_missed = 0
        no_match_total = no_match_ok = esc_total = esc_ok = not_esc_total = esc_fp = 0
        high_total = high_right = high_answerable = rises = 0
        latencies: list[float] = []
        encodes: list[float] = []
        for done, q in enumerate(queries, start=1):
            started = time.perf_counter()
            result = suggest(session=s, engine=eng, request=SuggestRequest(q.query, lang=q.lang, k=5),
                             source="eval", rank_always=True)
            latencies.append((time.perf_counter() - started) * 1000)
            ranking = [ext.get(e) for e in result.ranking]
            labels = [_LEVEL[sug.confidence] for sug in result.suggestions]
            rises += any(later > earlier for earlier, later in zip(labels, labels[1:], strict=False))
            top_high = result.outcome == "answer" and labels[:1] == [_LEVEL["high"]]
            if top_high:
                high_total += 1
                high_right += ext.get(result.suggestions[0].entry_id) in set(q.relevant)
            if q.expected == "answer" or (q.relevant and q.expected != "no_match"):
                answerable += 1
                relevant = set(q.relevant)
                first = next((i for i, e in enumerate(ranking) if e in relevant), None)
                hits1 += first == 0
                hits5 += first is not None and first < 5
                rr += 1 / (first + 1) if first is not None else 0.0
                answerable_missed += result.outcome in ("no_match", "escalate")
                high_answerable += top_high
            if q.expected == "no_match":
                no_match_total += 1
                no_match_ok += result.outcome == "no_match"
            if q.expected == "escalate":
                esc_total += 1
                esc_ok += result.outcome == "escalate"
            else:
                not_esc_total += 1
                esc_fp += result.outcome == "escalate"
            if progress:
                progress(done)
        for q in queries:
            enc = eng.encoder_for(q.lang or "en")
            started = time.perf_counter()
            enc.encode_queries([q.query])
            encodes.append((time.perf_counter() - started) * 1000)
    return {
        "n_queries": len(queries),
        "p_at_1": _rate(hits1, answerable),
        "mrr": round(rr / answerable, 4) if answerable else None,
        "recall_at_5": _rate(hits5, answerable),
        "answerable_no_match_rate": _rate(answerable_missed, answerable),
        "no_match_accuracy": _rate(no_match_ok, no_match_total),
        "escalate_recall": _rate(esc_ok, esc_total),
        "escalate_false_positive_rate": _rate(esc_fp, not_esc_total),
        "latency_ms_p50": _percentile(latencies, 50),
        "latency_ms_p99": _percentile(latencies, 99),
        "encode_ms_p50": round(statistics.median(encodes), 3) if encodes else None,
        # "high" at rank 1: how often it was right (every query), and on how many answerable queries it was given.
        "high_precision": _rate(high_right, high_total),
        "high_share": _rate(high_answerable, answerable),
        "label_rises": _rate(rises, len(queries)),
    }


_LEVEL = {"low": 0, "medium": 1, "high": 2}
