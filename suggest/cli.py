"""Suggest commands: `flask suggest eval | calibrate | reindex | ask`."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from kb import storage
from kb.cli import friendly, progress_bar, require_migrated
from suggest import calibration, engine, evaluation
from suggest.results import SuggestRequest
from suggest.service import suggest

suggest_cli = AppGroup("suggest", help="Evaluate, calibrate and query the suggestion engine.")


class BadInput(click.ClickException):
    """Bad evaluation input: one readable line and exit status 2."""

    exit_code = 2


def _eval_config(model: str | None) -> dict:
    config = {k: current_app.config[k] for k in ("ENCODER", "ENCODER_BACKEND", "LANG_ENCODERS", "THRESHOLDS",
                                                  "SUGGEST_CACHE_SIZE")}
    config["INSTANCE_PATH"] = current_app.instance_path
    config["MODEL_CACHE"] = current_app.config["MODEL_CACHE"] or str(Path(current_app.instance_path) / "models")
    if model:
        config.update(ENCODER=model, LANG_ENCODERS="")
    return config


def _load(faq: Path, queries: Path) -> tuple[list[dict], list[evaluation.QueryRow]]:
    try:
        return evaluation.read_jsonl(faq), evaluation.parse_queries(queries)
    except evaluation.EvalInputError as exc:
        raise BadInput(str(exc)) from None


@suggest_cli.command("eval")
@click.option("--faq", "faq", required=True, type=click.Path(path_type=Path), help="FAQ.jsonl to build a KB from.")
@click.option("--queries", "queries", required=True, type=click.Path(path_type=Path), help="QUERIES.jsonl.")
@click.option("--model", default=None, help="Encoder for every language: minilm, e5, fake, or an ST name/path.")
def eval_command(faq: Path, queries: Path, model: str | None) -> None:
    """Build a throwaway KB from FAQ.jsonl, run every query, print one JSON line of metrics."""
    faq_rows, query_rows = _load(faq, queries)
    try:
        with progress_bar(len(faq_rows), "Building KB") as advance, \
                evaluation.throwaway_app(faq_rows, config=_eval_config(model), progress=advance) as app:
            engine.engine(app).warm_up(sorted({q.lang or "en" for q in query_rows}))
            with progress_bar(len(query_rows), "Evaluating") as step:
                metrics = evaluation.evaluate(app, query_rows, progress=step)
    except evaluation.EvalInputError as exc:
        raise BadInput(str(exc)) from None
    click.echo(json.dumps(metrics))


@suggest_cli.command("calibrate")
@click.option("--faq", "faq", required=True, type=click.Path(path_type=Path))
@click.option("--queries", "queries", required=True, type=click.Path(path_type=Path), multiple=True,
              help="Labelled queries with answerable and unanswerable rows; repeat for several files.")
@click.option("--model", default=None, help="Encoder to calibrate (default: the configured one).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the thresholds JSON here (default: instance/thresholds.json).")
def calibrate_command(faq: Path, queries: tuple[Path, ...], model: str | None, out: Path | None) -> None:
    """Fit fusion weight and answer thresholds per language and encoder on labelled data."""
    faq_rows = _load(faq, queries[0])[0]
    query_rows = [row for path in queries for row in _load(faq, path)[1]]
    try:
        with progress_bar(len(faq_rows), "Building KB") as advance, \
                evaluation.throwaway_app(faq_rows, config=_eval_config(model), progress=advance) as app:
            with progress_bar(len(query_rows), "Collecting evidence") as step:
                table = calibration.fit(app, query_rows, progress=step)
    except evaluation.EvalInputError as exc:
        raise BadInput(str(exc)) from None
    target = out or Path(current_app.instance_path) / "thresholds.json"
    existing = calibration.read_file(target)
    existing.update(table)
    target.write_text(json.dumps(existing, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    click.echo(json.dumps(table, sort_keys=True))
    click.echo(f"Thresholds written to {target}; they apply from the next start.", err=True)


@suggest_cli.command("reindex")
@friendly
def reindex_command() -> None:
    """Encode every approved version now (filling the embedding cache) and report the index."""
    require_migrated()
    eng = engine.engine()
    eng.generation = -1
    with click.progressbar(length=1, label="Indexing", file=sys.stderr) as bar:
        def advance(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        eng.sync(storage.session(), progress=advance)
    stats = eng.stats()
    click.echo(f"Indexed {stats['versions']} approved versions at KB generation {stats['generation']} "
               f"with {', '.join(stats['encoders']) or 'no encoder'}.")


@suggest_cli.command("ask")
@click.argument("question")
@click.option("--channel", default=None)
@click.option("--lang", default=None)
@click.option("-k", "k", default=3, type=click.IntRange(1, 10))
@friendly
def ask_command(question: str, channel: str | None, lang: str | None, k: int) -> None:
    """Show what agents would get for a question."""
    require_migrated()
    result = suggest(session=storage.session(), engine=engine.engine(),
                     request=SuggestRequest(question, channel=channel, lang=lang, k=k, include_low=True),
                     source="cli", record=False)
    click.echo(f"outcome: {result.outcome} (lang {result.lang}, {result.took_ms:.1f} ms)")
    if result.escalation:
        esc = result.escalation
        click.echo(f"RED FLAG: {esc.kind} -> {esc.department}\n  {esc.holding_statement}")
    for i, s in enumerate(result.suggestions, start=1):
        click.echo(f"{i}. [{s.confidence} {s.score:.2f}] #{s.entry_id} v{s.version} {s.question}")
        click.echo(f"   {s.answer}")


def register(app: Flask) -> None:
    """Add the commands to the app's CLI."""
    app.cli.add_command(suggest_cli)
