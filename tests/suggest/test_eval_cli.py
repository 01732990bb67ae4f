"""`flask suggest eval` and `flask suggest calibrate` honour the evaluation contract on data the test writes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

KEYS = {"n_queries", "p_at_1", "mrr", "recall_at_5", "answerable_no_match_rate", "no_match_accuracy",
        "escalate_recall", "escalate_false_positive_rate", "latency_ms_p50", "latency_ms_p99", "encode_ms_p50",
        "high_precision", "high_share", "label_rises"}

FAQ = [
    {"id": "router", "question": "How do I restart my router?", "answer": "Unplug it for 30 seconds.", "lang": "en",
     "alternates": ["reboot the modem"]},
    {"id": "bill", "question": "How do I pay my bill?", "answer": "In the app under Billing.", "lang": "en"},
    {"id": "wifi", "question": "How do I change the wifi password?", "answer": "App, Equipment, Wi-Fi.",
     "lang": "en"},
    {"id": "router-he", "question": "איך מאתחלים את הראוטר?", "answer": "מנתקים לשלושים שניות.", "lang": "he"},
    {"id": "bill-he", "question": "איך משלמים את החשבון?", "answer": "באפליקציה תחת חשבונות.", "lang": "he"},
]
QUERIES = [
    {"query": "restart router", "relevant_ids": ["router"], "lang": "en"},
    {"query": "how can I pay the bill", "relevant_ids": ["bill"], "lang": "en"},
    {"query": "change wifi password please", "relevant_ids": ["wifi"], "lang": "en"},
    {"query": "איך לאתחל את הראוטר", "relevant_ids": ["router-he"], "lang": "he"},
    {"query": "לשלם את החשבון", "relevant_ids": ["bill-he"], "lang": "he"},
    {"query": "what is the capital of mongolia", "relevant_ids": [], "lang": "en"},
    {"query": "I will sue you, my lawyer is ready", "relevant_ids": [], "lang": "en", "expected_outcome": "escalate"},
]


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    return _write(tmp_path / "faq.jsonl", FAQ), _write(tmp_path / "queries.jsonl", QUERIES)


def test_eval_prints_one_json_line_with_the_contract_keys(runner, files) -> None:
    faq, queries = files
    result = runner.invoke(args=["suggest", "eval", "--faq", str(faq), "--queries", str(queries), "--model", "fake"])
    assert result.exit_code == 0, result.output
    json_lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(json_lines) == 1
    metrics = json.loads(json_lines[0])
    assert set(metrics) == KEYS
    assert metrics["n_queries"] == 7
    assert metrics["p_at_1"] == 1.0 and metrics["recall_at_5"] == 1.0 and metrics["mrr"] == 1.0
    assert metrics["escalate_recall"] == 1.0 and metrics["escalate_false_positive_rate"] == 0.0
    assert metrics["no_match_accuracy"] == 1.0
    assert metrics["latency_ms_p50"] > 0 and metrics["encode_ms_p50"] > 0
    assert metrics["label_rises"] == 0.0 and 0.0 <= metrics["high_share"] <= 1.0
    assert metrics["high_precision"] is None or metrics["high_precision"] == 1.0  # every query here is easy


def test_metrics_that_do_not_apply_are_null(runner, tmp_path: Path) -> None:
    faq = _write(tmp_path / "faq.jsonl", FAQ)
    queries = _write(tmp_path / "q.jsonl", QUERIES[:2])
    result = runner.invoke(args=["suggest", "eval", "--faq", str(faq), "--queries", str(queries), "--model", "fake"])
    metrics = json.loads(result.stdout.strip().splitlines()[-1])
    assert metrics["no_match_accuracy"] is None and metrics["escalate_recall"] is None


@pytest.mark.parametrize(("faq_text", "queries_text", "message"), [
    (None, '{"query": "q", "relevant_ids": []}\n', "no such file"),
    ('{"id": "a", "question": "Q", "answer": "A", "lang": "en"}\n', "{oops\n", "queries.jsonl:1: not valid JSON"),
    ('{"id": "a", "question": "Q", "answer": "A", "lang": "en"}\n', '{"query": ""}\n', "query must be non-empty"),
    ('{"id": "a", "question": "Q", "answer": "A", "lang": "en"}\n',
     '{"query": "q", "relevant_ids": [], "expected_outcome": "maybe"}\n', "expected_outcome must be"),
    ('{"id": "a", "lang": "en"}\n', '{"query": "q", "relevant_ids": ["a"]}\n', "missing question"),
    ('{"id": "a", "question": "Q", "answer": "A", "lang": "english"}\n', '{"query": "q", "relevant_ids": ["a"]}\n',
     "language must be"),
])
def test_bad_input_exits_2_with_one_readable_line(runner, tmp_path: Path, faq_text, queries_text, message) -> None:
    faq = tmp_path / "faq.jsonl"
    if faq_text is not None:
        faq.write_text(faq_text, encoding="utf-8")
    queries = tmp_path / "queries.jsonl"
    queries.write_text(queries_text, encoding="utf-8")
    result = runner.invoke(args=["suggest", "eval", "--faq", str(faq), "--queries", str(queries), "--model", "fake"])
    assert result.exit_code == 2
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("Error: ") and message in last and "Traceback" not in result.output


def test_calibrate_writes_thresholds_the_app_then_uses(app, runner, files, tmp_path: Path) -> None:
    faq, queries = files
    out = tmp_path / "thresholds.json"
    result = runner.invoke(args=["suggest", "calibrate", "--faq", str(faq), "--queries", str(queries),
                                 "--model", "fake", "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = json.loads(out.read_text())
    assert set(table) == {"fake-ngram-256|en", "fake-ngram-256|he"}
    for values in table.values():
        assert set(values) == {"weight", "answer", "high", "margin"} and values["high"] >= values["answer"]

    from app import create_app
    from suggest import engine

    tuned = create_app({**app.config, "THRESHOLDS": out.read_text()})
    assert engine.engine(tuned).thresholds["fake-ngram-256|en"].answer == table["fake-ngram-256|en"]["answer"]
