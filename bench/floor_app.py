"""The smallest Flask app gunicorn can serve: a constant JSON answer, no database, no key, no model.

    .venv/bin/python -m bench.throughput --app bench.floor_app:app --phases health

Served with the product's own gunicorn.conf.py, it measures what gunicorn and Flask cost around any request on this
machine: a floor no API call of the product can go under.
"""
from __future__ import annotations

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue

app = Flask(__name__)


@app.get("/healthz")
def health() -> ResponseReturnValue:
    """Answer at once."""
    return jsonify({"status": "ok"})
