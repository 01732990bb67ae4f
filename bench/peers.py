"""Vetted beside its peers, each in its own process on the same machine: same entries, same questions, quality
and latency side by side, English and Hebrew, at several knowledge-base sizes.

    .venv/bin/python -m bench.peers [--sizes 50,1000] [--langs en,he] [--queries 150]

Peers: Haystack 3.4 (InMemoryDocumentStore + InMemoryEmbeddingRetriever, in the separate environment
/work/venv-bench made from requirements-bench.txt, or VETTED_BENCH_PYTHON) over MiniLM for English and e5 for
Hebrew, and a dense-only faiss flat index over the same model. Every process computes with one thread per model,
as gunicorn.conf.py sets for the product.

English entries are CLINC150 training utterances (a question is right when the entry has its intent), past
15,000 joined by unrelated English entries (`english_fillers`); Hebrew entries are he_service_dev's FAQ, padded
with unrelated Hebrew entries up to the size (`hebrew_fillers`: HeQ's questions first, then the other Hebrew texts
here, then two of them joined).
Prints one JSON line per (language, size, system) and writes bench/results/peers.json.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import time
from typing import Any

from bench import common

BENCH_PYTHON = os.environ.get("VETTED_BENCH_PYTHON", "/work/venv-bench/bin/python")
MODEL = {"en": "minilm", "he": "e5"}


def _padded(real: list[dict[str, str]], n: int, taken: set[str], rng: random.Random) -> list[dict[str, str]]:
    """Return `n` entries: the real ones in their order, then, past those, two of them joined into one entry. No
    public set holds 100k customer messages in either language; joined real messages keep real words and lengths,
    which is what the lexical and dense indexes' cost depends on. No question repeats one in `taken` or another."""
    real = [r for r in {r["question"]: r for r in real}.values() if r["question"] not in taken]
    out = real[:n]
    seen = taken | {r["question"] for r in out}
    while len(out) < n:
        a, b = rng.sample(real, 2)
        joined = {"question": f"{a['question']} {b['question']}", "answer": f"{a['answer']}; {b['answer']}"}
        if joined["question"] not in seen:
            seen.add(joined["question"])
            out.append(joined)
    return out


def english_fillers(n: int, taken: set[str], seed: int = 5) -> list[dict[str, Any]]:
    """Return `n` English entries that answer no CLINC150 question: banking77's training messages and the English
    FAQ questions of StackFAQ and the two COVID sets (about 11k), then two of them joined (`_padded`)."""
    real = [{"question": r["question"], "answer": r["answer"]}
            for r in common.read_jsonl(common.DATA / "banking77" / "faq_all_train_utterances.jsonl.gz")]
    for name in ("stackfaq", "covidfaq_sunsedoc", "deepset_covid_qsim"):
        real += [{"question": r["question"], "answer": r["question"]}
                 for r in common.read_jsonl(common.DATA / name / "faq.jsonl") if r.get("lang", "en") == "en"]
    real = [r for r in {r["question"]: r for r in real}.values() if r["question"] not in taken]
    rng = random.Random(seed)
    rng.shuffle(real)
    return [{"id": f"f{i}", **r, "lang": "en", "intent": None} for i, r in enumerate(_padded(real, n, taken, rng))]


_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def hebrew_fillers(n: int, taken: set[str], seed: int = 5) -> list[dict[str, Any]]:
    """Return `n` Hebrew entries that answer no he_service_dev question. First HeQ's questions (2,130, in the order
    the smaller tables used), then the other Hebrew texts here (HeQ's unanswerable questions, ParaShoot's
    questions, Kol Zchut's queries, and the sentences of HeQ's and ParaShoot's paragraphs: about 6k in all), then
    two of them joined (`_padded`). Each entry's answer is the title of the article it comes from."""
    titles: dict[str, str] = {}
    paragraphs: list[dict[str, str]] = []
    for name in ("heq", "parashoot"):
        for r in common.read_jsonl(common.DATA / name / "faq.jsonl"):
            titles[r["id"]] = r["question"]
            paragraphs += [{"question": s.strip(), "answer": r["question"]} for s in _SENTENCE.split(r["answer"])
                           if 3 <= len(s.split()) and len(s) <= 300]

    def asked(name: str, path: str) -> list[dict[str, str]]:
        return [{"question": q["query"], "answer": titles.get((q.get("relevant_ids") or [""])[0], q["query"])}
                for q in common.read_jsonl(common.DATA / name / path)]

    rng = random.Random(seed)
    first = asked("heq", "queries.jsonl")
    rng.shuffle(first)
    more = (asked("heq", "queries_unanswerable_same_paragraph.jsonl") + asked("parashoot", "queries.jsonl")
            + asked("kolzchut_eval_queries_unlabeled", "queries.jsonl") + paragraphs)
    rng.shuffle(more)
    real = first + more
    return [{"id": f"heq-q{i}", **r, "lang": "he"} for i, r in enumerate(_padded(real, n, taken, rng))]


def english(size: int, n_queries: int, seed: int = 5) -> dict[str, Any]:
    """Return entries made of CLINC150 training utterances (all 15,000, then unrelated English entries up to the
    size) and test questions whose intent is among them."""
    rows = common.read_jsonl(common.DATA / "clinc150" / "faq_all_train_utterances.jsonl.gz")
    rows = random.Random(seed).sample(rows, min(size, len(rows)))
    entries = [{"id": f"u{i}", "question": r["question"], "answer": r.get("answer") or r["question"], "lang": "en",
                "intent": r.get("intent") or r.get("answer")} for i, r in enumerate(rows)]
    if size > len(entries):
        entries += english_fillers(size - len(entries), {e["question"] for e in entries}, seed)
    by_intent: dict[str, list[str]] = {}
    for e in entries:
        if e["intent"] is not None:
            by_intent.setdefault(e["intent"], []).append(e["id"])
    queries = [{"query": q["query"], "relevant": by_intent[q["intent"]]}
               for q in common.read_jsonl(common.DATA / "clinc150" / "queries.jsonl") if q.get("intent") in by_intent]
    return {"entries": entries, "queries": random.Random(seed).sample(queries, min(n_queries, len(queries)))}


def hebrew(size: int, n_queries: int, seed: int = 5) -> dict[str, Any]:
    """Return he_service_dev's entries (the first `size`), padded with unrelated Hebrew entries (`hebrew_fillers`),
    and its test questions."""
    faq = common.read_jsonl(common.DATA / "he_service_dev" / "faq.jsonl")[:size]
    entries = [{"id": r["id"], "question": r["question"], "answer": r["answer"], "lang": "he",
                "alternates": r.get("alternates") or []} for r in faq]
    entries += hebrew_fillers(max(0, size - len(entries)), {e["question"] for e in entries}, seed)
    ids = {e["id"] for e in entries}
    queries = [{"query": q["query"], "relevant": [r for r in q["relevant_ids"] if r in ids]}
               for q in common.read_jsonl(common.DATA / "he_service_dev" / "queries.jsonl")
               if any(r in ids for r in q["relevant_ids"])]
    return {"entries": entries, "queries": random.Random(seed).sample(queries, min(n_queries, len(queries)))}


def vetted(spec: dict[str, Any]) -> dict[str, Any]:
    """Run the product's suggest service over the entries (its own process: this one)."""
    from app import create_app
    from suggest.evaluation import QueryRow, evaluate, throwaway_app

    lang = spec["entries"][0]["lang"]
    faq = [{k: v for k, v in e.items() if k != "intent"} for e in spec["entries"]]
    queries = [QueryRow(q["query"], q["relevant"], lang, "answer") for q in spec["queries"]]
    config = {**common.app_config("auto"), "SUGGEST_CACHE_SIZE": 0}
    started = time.perf_counter()
    with throwaway_app(faq, config=config, make_app=create_app) as app:
        from kb import storage
        from suggest import engine as engine_mod

        with app.app_context(), storage.database(app).session() as s:
            engine_mod.engine(app).sync(s)
        index_s = time.perf_counter() - started
        metrics = evaluate(app, queries)
    return {"engine": "vetted", "model": "auto", "entries": len(faq), "queries": len(queries),
            "p_at_1": metrics["p_at_1"], "recall_at_5": metrics["recall_at_5"],
            "latency_ms_p50": metrics["latency_ms_p50"], "latency_ms_p99": metrics["latency_ms_p99"],
            "encode_ms_p50": metrics["encode_ms_p50"], "index_s": round(index_s, 2)}


def _in_process(python: str, args: list[str], spec: dict[str, Any]) -> dict[str, Any]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "VETTED_MODEL_CACHE": str(common.MODELS)}
    out = subprocess.run([python, *args], cwd=common.ROOT, input=json.dumps(spec), capture_output=True, text=True,
                         env=env, timeout=3600)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--vetted"]:
        print(json.dumps(vetted(json.loads(sys.stdin.read()))), flush=True)
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50,1000")
    parser.add_argument("--langs", default="en,he")
    parser.add_argument("--queries", type=int, default=150)
    parser.add_argument("--systems", default="vetted,haystack,faiss")
    args = parser.parse_args(argv)
    results = []
    for lang in args.langs.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            spec = (english if lang == "en" else hebrew)(size, args.queries)
            for system in args.systems.split(","):
                if system == "vetted":
                    result = _in_process(sys.executable, ["-m", "bench.peers", "--vetted"], spec)
                else:
                    python = BENCH_PYTHON if system == "haystack" else sys.executable
                    result = _in_process(python, ["bench/peer_dense.py", "--engine", system,
                                                  "--model", MODEL[lang]], spec)
                row = {"lang": lang, "size": size, "system": system, **result,
                       "load_avg_1m": round(os.getloadavg()[0], 2)}
                results.append(row)
                print(json.dumps(row), flush=True)
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    (common.RESULTS / "peers.json").write_text(json.dumps({"date": time.strftime("%Y-%m-%d"), "results": results},
                                                          indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
