"""Production entry point: `gunicorn -w 4 -b 127.0.0.1:8000 wsgi:app` (README: Serving)."""
from __future__ import annotations

import sys

import click

from app import create_app
from kb import storage

app = create_app()

# Flask's CLI finds this file first when FLASK_APP is unset; `flask kb init` must then run, not be refused.
_under_flask_cli = click.get_current_context(silent=True) is not None
if not _under_flask_cli and not storage.is_migrated(storage.database(app).engine):
    sys.stderr.write("The database is not set up for this version: run `flask kb init` first.\n")
    raise SystemExit(3)
