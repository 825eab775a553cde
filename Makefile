# Dilemmagesprek: one entry point for running, testing and locking.
#
#   make run     install what is missing, then serve (HOST, PORT; default 127.0.0.1:8000)
#   make test    ruff, the whole suite on SQLite, the non-browser suite on PostgreSQL + Redis
#   make lock    regenerate requirements/*.lock from pyproject.toml
#   make bench   run bench/run.py (latency of the live path; see its docstring)
#   make loadtest  run bench/loadtest.py (2 workers, PostgreSQL + Redis, ~20 min; see its docstring)
#   make clean   remove the virtualenv and caches (never the data directory)
#
# Installs are keyed to stamp files in the virtualenv, so they rerun only when a lock file
# (or pyproject.toml, which holds the console script) changes.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BASE_STAMP := $(VENV)/.installed-base
TEST_STAMP := $(VENV)/.installed-test
LOCK_TOOLS := $(VENV)/lock-tools
PIP_TOOLS_VERSION := 7.6.2

HOST ?= 127.0.0.1
PORT ?= 8000

# WeasyPrint's libraries and the Noto fonts the reports use, and gettext for compilemessages.
RUNTIME_DEBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-core gettext
# Playwright drives Debian's chromium; it never downloads a browser of its own.
TEST_DEBS := $(if $(wildcard /usr/bin/chromium),,chromium) poppler-utils
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0

# pip-tools flags shared by both lock files. The build requirements (setuptools) are locked
# too, so the editable install can run with --no-build-isolation from hashed packages only.
# Index and find-links options stay out: they describe one machine, not the project.
LOCK_FLAGS := --quiet --allow-unsafe --generate-hashes --strip-extras --all-build-deps \
	--no-emit-index-url --no-emit-find-links
LOCK_ARGS ?=

.PHONY: help run test lock bench loadtest clean debian-runtime debian-test

help:
	@sed -n 's/^#   //p' $(firstword $(MAKEFILE_LIST))

# --- virtualenv and installs -------------------------------------------------------------

$(BIN)/python:
	@if ! $(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then \
		echo "Python 3.11 of nieuwer is nodig; '$(PYTHON)' is dat niet. Gebruik: make PYTHON=python3.12 ..." >&2; \
		exit 1; \
	fi
	$(PYTHON) -m venv $(VENV)

$(BASE_STAMP): requirements/base.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/base.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

$(TEST_STAMP): requirements/test.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/test.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

debian-runtime:
	@scripts/debian-deps $(RUNTIME_DEBS)

debian-test:
	@scripts/debian-deps $(RUNTIME_DEBS) $(TEST_DEBS)

# --- targets -----------------------------------------------------------------------------

run: $(BASE_STAMP) debian-runtime
	$(BIN)/dilemmagesprek serve --host "$(HOST)" --port "$(PORT)"

# The second pass repeats the non-browser tests on the production stack. Browser tests
# always use the embedded SQLite of their own server, so they gain nothing from it.
test: $(TEST_STAMP) debian-test
	$(BIN)/ruff check .
	$(BIN)/pytest
	@if $(BIN)/python -c 'import socket, sys, urllib.parse; \
		[socket.create_connection((u.hostname, u.port), timeout=2).close() \
		 for u in map(urllib.parse.urlsplit, sys.argv[1:])]' \
		"$(TEST_DATABASE_URL)" "$(TEST_REDIS_URL)" 2>/dev/null; then \
		echo "== non-browser tests on PostgreSQL + Redis =="; \
		DATABASE_URL="$(TEST_DATABASE_URL)" REDIS_URL="$(TEST_REDIS_URL)" \
			$(BIN)/pytest -m "not browser"; \
	elif [ "$${CI:-}" = "true" ]; then \
		echo "PostgreSQL ($(TEST_DATABASE_URL)) of Redis ($(TEST_REDIS_URL)) antwoordt niet; in CI is dat een fout." >&2; \
		exit 1; \
	else \
		echo "OVERGESLAGEN: PostgreSQL + Redis-ronde; $(TEST_DATABASE_URL) of $(TEST_REDIS_URL) antwoordt niet."; \
		echo "             Start ze (zie .ci/run) om ook die ronde te draaien."; \
	fi

$(LOCK_TOOLS)/bin/pip-compile: | $(BIN)/python
	$(BIN)/python -m venv $(LOCK_TOOLS)
	$(LOCK_TOOLS)/bin/pip install --quiet pip-tools==$(PIP_TOOLS_VERSION)

# Pins already in a lock file are kept; `make lock LOCK_ARGS=--upgrade` moves them all.
lock: $(LOCK_TOOLS)/bin/pip-compile
	$(LOCK_TOOLS)/bin/pip-compile $(LOCK_FLAGS) $(LOCK_ARGS) \
		--output-file=requirements/base.lock pyproject.toml
	$(LOCK_TOOLS)/bin/pip-compile $(LOCK_FLAGS) $(LOCK_ARGS) --extra=test \
		--output-file=requirements/test.lock pyproject.toml

# bench/run.py is the entry point; the other files in bench/ are its helpers and servers.
# Its BENCH_* environment variables (see its docstring) pass straight through.
bench: $(TEST_STAMP)
	$(BIN)/python bench/run.py

# Not part of `make test`: it needs PostgreSQL and Redis and takes about 20 minutes. Its
# LOADTEST_* environment variables (see bench/loadtest.py) pass straight through.
loadtest: $(TEST_STAMP)
	$(BIN)/python bench/loadtest.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-results build *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	@echo "De datamap (standaard ./data) is niet aangeraakt."
