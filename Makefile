# aidcases — two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test lint format bench install test-deps clean

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "需要 Python 3.11（找不到 $(PYTHON)）"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): $(PY) requirements.txt requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

install: $(STAMP)

## make run: the app on http://127.0.0.1:8000 with a Celery worker and beat.
## Uses DATABASE_URL / REDIS_URL when set, otherwise embedded servers under var/.
run: install
	DEBUG=$${DEBUG:-true} $(PY) manage.py run_all

## make test: lint, then the whole suite (browser tests included) on real PostgreSQL.
test: install test-deps lint
	$(PY) -m pytest

## lint: ruff, and the dependency rule (lint-imports: leaves → hub, never back; no cycles).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## Chromium + a CJK font (browser tests) and docker-compose (compose file check),
## with apt as root on Debian, when missing.
test-deps:
	@bash scripts/test-deps.sh

bench: install
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
