# The two set-up commands of the README: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST := 127.0.0.1

.PHONY: run test lint format install system-test-deps messages bench clean

$(VENV)/.installed: requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed

## make run: install, migrate the SQLite database under var/, load demo data, start the local test
## identity provider (port IDP_PORT, 8001) and trade-register fake, serve the portal on 127.0.0.1.
run: install
	@mkdir -p var
	$(BIN)/alembic upgrade head
	$(BIN)/python -m app.cli load-demo-data
	@PORT=$(PORT) scripts/run-dev.sh

## make test: install, then the whole suite (browser tests included) on SQLite and on PostgreSQL.
test: install system-test-deps
	scripts/test.sh

system-test-deps:
	@scripts/install-system-deps.sh

lint: install
	$(BIN)/ruff check app tests bench migrations
	$(BIN)/ruff format --check app tests bench migrations
	$(BIN)/mypy app tests bench

format: install
	$(BIN)/ruff check --fix app tests bench migrations
	$(BIN)/ruff format app tests bench migrations

## make messages: add new strings to the fi/sv/en catalogs (scripts/messages.py --help).
messages: install
	$(BIN)/python scripts/messages.py

## make bench: load the app on loopback and print ratios against /api/v1/ping.
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

## make lock: re-resolve requirements*.txt from pyproject.toml (needs network to PyPI).
lock: install
	$(BIN)/python -m pip install --quiet uv==0.13.9
	UV_PYTHON_DOWNLOADS=never $(BIN)/uv pip compile pyproject.toml --python-version 3.11 --no-header -q -o requirements.txt
	UV_PYTHON_DOWNLOADS=never $(BIN)/uv pip compile pyproject.toml --group dev --python-version 3.11 --no-header -q -o requirements-dev.txt

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache
