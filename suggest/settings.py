"""Building a worker's engine from the app's settings, once per process."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import Flask

from suggest.engine import EXTENSION, Engine
from suggest.escalation import classifier
from suggest.matching import confidence as confidence_mod
from suggest.matching.encoders import check_backend, parse_lang_encoders
from suggest.matching.fusion import load_table
from suggest.matching.index import KINDS as DENSE_KINDS


def from_config(config: dict[str, Any], instance_path: str | None = None) -> Engine:
    """Build an engine from app settings (thresholds from THRESHOLDS, else instance/thresholds.json; the confidence
    model from instance/confidence.json, else the shipped one)."""
    raw = config["THRESHOLDS"]
    if not raw and instance_path:
        saved = Path(instance_path) / "thresholds.json"
        raw = saved.read_text(encoding="utf-8") if saved.is_file() else ""
    try:
        thresholds = load_table(raw)
    except (json.JSONDecodeError, TypeError) as exc:
        raise ValueError(f"THRESHOLDS is not valid: {exc}") from None
    check_backend(config["ENCODER_BACKEND"])  # the encoders are built on first use: refuse a bad one at start-up
    if config["DENSE_INDEX"] not in DENSE_KINDS:
        raise ValueError(f"DENSE_INDEX must be one of {', '.join(DENSE_KINDS)}")
    return Engine(
        lang_encoders=parse_lang_encoders(config["LANG_ENCODERS"], config["ENCODER"]),
        backend=config["ENCODER_BACKEND"],
        cache_dir=config["MODEL_CACHE"] or (str(Path(instance_path) / "models") if instance_path else ""),
        thresholds=thresholds,
        cache_size=int(config["SUGGEST_CACHE_SIZE"]),
        example_match=float(config["FLAG_EXAMPLE_MATCH"]),
        query_max_tokens=int(config["QUERY_MAX_TOKENS"]),
        flag_model=classifier.from_setting(config.get("FLAG_MODEL", "")),
        confidence=_confidence_model(instance_path),
        batch_window_ms=float(config["BATCH_WINDOW_MS"]),  # batching
        batch_max=int(config["BATCH_MAX"]),
        dense_index=str(config["DENSE_INDEX"]),
    )


def _confidence_model(instance_path: str | None) -> confidence_mod.Model | None:
    refitted = Path(instance_path) / "confidence.json" if instance_path else None
    try:
        return confidence_mod.load(refitted) if refitted and refitted.is_file() else confidence_mod.load()
    except (json.JSONDecodeError, TypeError) as exc:
        raise ValueError(f"confidence model is not valid: {exc}") from None


def init_app(app: Flask) -> None:
    """Attach a lazily built engine to the app; models load on first use or at warm-up."""
    try:
        app.extensions[EXTENSION] = from_config(app.config, app.instance_path)
    except ValueError as exc:
        raise SystemExit(f"bad suggest settings: {exc}") from None
    if app.config["WARM_UP"]:
        app.extensions[EXTENSION].warm_up()
