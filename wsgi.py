"""Production entry point: `gunicorn -w 4 -b 127.0.0.1:8000 wsgi:app` (README: Serving)."""
from __future__ import annotations

import sys

from app import create_app
from kb import storage

app = create_app()

if not storage.is_migrated(storage.database(app).engine):
    sys.stderr.write("The database is not set up for this version: run `flask kb init` first.\n")
    raise SystemExit(3)
