PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# setuptools' notice on every editable install of a package whose folders have other names
# (ours: api/ is s3_connector) says nothing about this project; no other warning is hidden.
PIP := PYTHONWARNINGS="ignore:Editable installation" $(BIN)/pip

.PHONY: demo test bench lint format descriptors clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-local: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e '.[local]'
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-local

demo: $(VENV)/.installed-local
	BIN=$(BIN) bash scripts/demo.sh

JS := tests/js

$(JS)/node_modules/.installed: $(JS)/package.json $(JS)/package-lock.json
	npm ci --prefix $(JS) --no-audit --no-fund --loglevel=error
	bash scripts/ensure-chromium.sh
	touch $@

test: $(VENV)/.installed-test $(JS)/node_modules/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -n 2 --dist loadfile

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed-test
	$(PIP) install --quiet -e '.[test,bench]'
	touch $@

bench: $(VENV)/.installed-bench
	$(BIN)/python -m compileall -q -x '/templates/' connector activities cli sdk api
	$(BIN)/python tests/bench/run_bench.py $(BENCH_ARGS)
	$(BIN)/python tests/bench/serve_bench.py --workers 1,32 --requests 3000

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

descriptors: $(VENV)/.installed-local
	$(BIN)/python -m s3_connector.sdk.export
	$(BIN)/python -m s3_connector.sdk.field_table docs/activities.md docs/connection.md \
		docs/descriptor-format.md

clean:
	rm -rf $(VENV) $(JS)/node_modules .venv-awscli .demo .bench build *.egg-info .pytest_cache .ruff_cache
