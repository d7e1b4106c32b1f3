# The two set-up commands of the README. Both work on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

.PHONY: install install-test demo test lint catalogue
install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"

# Install, then plan the bundled season on the embedded defaults (offline geography, SQLite).
demo: install
	$(BIN)/chunyun plan scenarios/cixi-2019 --out out/cixi-2019

# Install with the test extras, then run the default test suite (slow solves excluded).
test: install-test
	$(BIN)/pytest -m "not slow" -n 2

# Lint and strict typing (CI runs this after the tests).
lint: install-test
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy optimizer maps scenarios api benchmarks

# Recompile the message catalogue (api/locale/*/LC_MESSAGES/chunyun.po -> .mo, shipped as package
# data) after editing a .po file; tests/web/test_i18n.py fails while a .mo is stale.
catalogue:
	$(BIN)/pybabel compile --domain chunyun --directory api/locale --use-fuzzy
