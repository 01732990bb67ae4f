# The two commands of the README: `make run` and `make test`. Everything else is a step they share.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := FLASK_APP=app $(BIN)/flask
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test typecheck test-sqlite test-postgres setup setup-dev db browser-deps postgres-deps

# The extension download carries the server's address; on this machine it is the one `make run` serves on.
run: setup db
	@echo "Vetted is starting on http://$(HOST):$(PORT)/ (Ctrl+C to stop)"
	VETTED_PUBLIC_URL=$${VETTED_PUBLIC_URL:-http://$(HOST):$(PORT)} $(FLASK) run --host $(HOST) --port $(PORT)

# The type check, then the whole suite on the embedded SQLite database, then again on PostgreSQL (a throwaway
# server on loopback).
test: typecheck test-sqlite test-postgres

# mypy over the application's packages (settings in pyproject.toml); tests, bench and migrations are not checked.
typecheck: setup-dev
	$(BIN)/mypy

test-sqlite: setup-dev browser-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres: setup-dev browser-deps postgres-deps
	VETTED_TEST_DB=postgresql $(BIN)/python -m pytest $(PYTEST_ARGS)

# torch is installed on its own first so that pip takes the CPU build and never a CUDA one.
$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

setup: $(VENV)/.runtime

setup-dev: $(VENV)/.dev

# Browser tests drive Debian's Chromium; DejaVu gives it Hebrew glyphs.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! dpkg -s fonts-dejavu-core >/dev/null 2>&1; then \
		echo "Installing Chromium and DejaVu fonts for the browser tests"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
			chromium fonts-dejavu-core >/dev/null; \
	fi

postgres-deps:
	@if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then \
		echo "Installing PostgreSQL for the test run against it"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql >/dev/null; \
	fi

db: setup
	$(FLASK) kb init
	$(FLASK) kb demo
	$(FLASK) suggest reindex  # exports the ONNX model and fills the embedding cache, so the first question is quick
