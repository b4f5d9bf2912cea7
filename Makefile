# Flowdesk developer commands. `make run` and `make test` are the whole quick start.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
UV := $(BIN)/uv
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := wsgi.py

.PHONY: help install assets run serve worker test test-sqlite lint lock bench migrate demo clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python requirements/dev.txt pyproject.toml
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(UV) pip sync --quiet --python $(BIN)/python requirements/dev.txt
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

install: $(VENV)/.installed assets  ## create .venv and install pinned Python and npm dependencies

static/vendor/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js
	touch $@

assets: static/vendor/.installed  ## install front-end assets from the npm registry into static/vendor

migrate: install  ## apply database migrations
	$(BIN)/flask db upgrade

demo: migrate  ## load the demo company, users and token (idempotent)
	$(BIN)/flask demo load --base-url http://$(HOST):$(PORT)

run: demo  ## install, migrate, load the demo and serve on http://$(HOST):$(PORT)
	FLOWDESK_DEMO=1 FLOWDESK_INLINE_TICKER=1 $(BIN)/flask run --host $(HOST) --port $(PORT)

WORKERS ?= 1
serve: migrate  ## serve with gunicorn (production-style); WORKERS>1 needs REDIS_URL for shared rate limits
	WEB_CONCURRENCY=$(WORKERS) $(BIN)/gunicorn --bind $(HOST):$(PORT) --workers $(WORKERS) --access-logfile - wsgi:app

worker: migrate  ## run the background worker that fires due steps, timers and retries
	$(BIN)/flask worker

test: install  ## install and run the whole suite (SQLite, plus PostgreSQL when reachable)
	$(BIN)/python -m tests.run

lint: install  ## ruff and the architecture contracts
	$(BIN)/ruff check .
	$(BIN)/lint-imports

lock: $(BIN)/python  ## re-pin requirements/*.txt from pyproject.toml
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(UV) pip compile pyproject.toml --python-version 3.11 -o requirements/base.txt --quiet
	$(UV) pip compile pyproject.toml --extra dev --extra bench --python-version 3.11 -o requirements/dev.txt --quiet

bench: install  ## run the benchmarks and write bench/RESULTS.md
	$(BIN)/python -m bench

clean:  ## remove the virtualenv, assets and caches
	rm -rf $(VENV) node_modules static/vendor .pytest_cache .ruff_cache
