# The single entry point: CI runs exactly what a developer runs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTHON := $(BIN)/python
export PYTHONPATH := $(CURDIR)

.PHONY: install run test lint bench demo up down clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PYTHON) || $(PY) -m venv $(VENV)
	$(PYTHON) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

run: install  ## all four services on the embedded default (SQLite under ./data), http://127.0.0.1:8000, with the demo keys
	DEMO=true $(PYTHON) -m app

test: install  ## the whole suite: unit, integration (PostgreSQL + both brokers), e2e
	$(PYTHON) -m pytest -q -n 2 --dist loadgroup

lint: install
	$(BIN)/ruff check libs services app tests bench deploy
	$(BIN)/mypy
	PYTHONPATH=$(CURDIR) $(BIN)/lint-imports

bench: install  ## benchmarks: figures and ratios against baselines measured in the same run
	$(PYTHON) -m bench

demo: install  ## a realistic 3 months through the real API into the embedded default (replaces ./data/aftersales.db); DEMO_ARGS="--seed 7 --months 3"
	$(PYTHON) -m app.demo --fresh $(DEMO_ARGS)

clean:
	rm -rf data artifacts .pytest_cache .mypy_cache .ruff_cache

up: install  ## the distributed topology as local processes (PostgreSQL :5432 db aftersales_local, noida broker :19092; services :8101-8106, relay :8110, projectors :8121-8126); pids and logs in ./data/stack
	$(PYTHON) -m deploy.local.stack up

down:  ## stop what `make up` started
	$(PYTHON) -m deploy.local.stack down
