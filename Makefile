# crosspromo: two commands do all the set-up. `make demo` serves the demo city; `make test` tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
SEED ?= 42
SIZE ?= small

.PHONY: demo test bench lint format messages install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/crosspromo db upgrade
	$(BIN)/crosspromo demo setup --seed $(SEED) --size $(SIZE)
	$(BIN)/crosspromo serve --host $(HOST) --port $(PORT)

test:
	./scripts/run-tests.sh

bench: install
	$(BIN)/pip install -q -e '.[test]'
	./scripts/run-bench.sh

lint:
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy src
	$(BIN)/lint-imports

format:
	$(BIN)/ruff format src tests bench scripts
	$(BIN)/ruff check --fix src tests bench scripts

# Re-extract UI strings and compile the catalogues (en is the source language).
messages:
	$(BIN)/pybabel extract -F babel.cfg -o src/crosspromo/locale/messages.pot src/crosspromo
	$(BIN)/pybabel update -i src/crosspromo/locale/messages.pot -d src/crosspromo/locale -l ru --no-fuzzy-matching
	$(BIN)/pybabel compile -d src/crosspromo/locale

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache tests/artifacts
