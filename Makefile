# The two entry points of the README, each working from a fresh clone:
#   make demo   set up, pull the default models, run edgeai on the bundled defaults
#   make test   set up, lint, type-check and run the test suite

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint clean system-deps

system-deps:
	scripts/install-system-deps.sh

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps re-run the install whenever pyproject.toml changes.
$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# the export extra: the wake word trainer and the toolchain are tested too
$(VENV)/.test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,export]'
	touch $@

demo: system-deps $(VENV)/.runtime
	$(BIN)/edgeai models pull --defaults
	$(BIN)/edgeai doctor
	$(BIN)/edgeai demo

lint: system-deps $(VENV)/.test
	$(BIN)/ruff check edgeai tests
	$(BIN)/ruff format --check edgeai tests
	$(BIN)/mypy edgeai

test: lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
