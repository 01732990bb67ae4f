"""Shared helpers of the benchmark drivers: where the data is, how to read it, the app settings."""
from __future__ import annotations

import gzip
import json
import os
import random
from pathlib import Path
from typing import Any

from suggest.evaluation import QueryRow, parse_queries

ROOT = Path(__file__).resolve().parents[1]
# The public sets sit beside the repository (VETTED_EVAL_DATA names another place); a work tree further down
# finds them higher up.
DATA = Path(os.environ.get("VETTED_EVAL_DATA") or next(
    (p / "shared" / "data" / "eval" for p in ROOT.parents if (p / "shared" / "data" / "eval").is_dir()),
    ROOT.parent / "shared" / "data" / "eval"))
RESULTS = ROOT / "bench" / "results"
MODELS = ROOT / "instance" / "models"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Read a JSONL file of objects, gzip-compressed when its name ends in .gz."""
    with (gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else path.open(encoding="utf-8")) as fh:
        return [json.loads(line) for line in fh if line.strip()]


def percentile(values: list[float], q: float) -> float:
    """Return the q-th percentile of the values (the nearest rank), to three decimals."""
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))], 3)


def read_queries(path: Path) -> list[QueryRow]:
    """Read labelled queries the way the eval command does."""
    return parse_queries(path)


def cap(rows: list[QueryRow], limit: int, seed: int = 7) -> list[QueryRow]:
    """Return at most `limit` rows, a seeded sample (0: all)."""
    if not limit or len(rows) <= limit:
        return rows
    return random.Random(seed).sample(rows, limit)


def app_config(encoder: str) -> dict[str, Any]:
    """Return the settings of a throwaway evaluation app using `encoder` for every language (or auto), on the
    backend VETTED_ENCODER_BACKEND names (the product's default, auto, if unset)."""
    backend = os.environ.get("VETTED_ENCODER_BACKEND", "auto")
    return {"ENCODER": encoder, "ENCODER_BACKEND": backend, "LANG_ENCODERS": "", "THRESHOLDS": "",
            "SUGGEST_CACHE_SIZE": 0, "INSTANCE_PATH": str(RESULTS / "instance"),
            "MODEL_CACHE": str(MODELS)}
