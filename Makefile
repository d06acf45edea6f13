# crosspromo: two commands do all the set-up. `make demo` serves the demo city; `make test` tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
SEED ?= 42
SIZE ?= small

.PHONY: demo test bench lint format messages install clean lock cluster cluster-stop

UV_VERSION := 0.13.9

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Installs come from uv.lock (exact versions with hashes); uv itself is pinned here.
$(BIN)/uv: | $(BIN)/python
	$(BIN)/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: pyproject.toml uv.lock | $(BIN)/uv
	$(BIN)/uv sync --locked --inexact --quiet
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/crosspromo db upgrade
	$(BIN)/crosspromo demo setup --seed $(SEED) --size $(SIZE) --url http://$(HOST):$(PORT)
	$(BIN)/crosspromo serve --host $(HOST) --port $(PORT)

test:
	./scripts/run-tests.sh

# Not one of the two set-up commands: a local multi-node topology (nginx, two app servers,
# two workers, pgbouncer, PostgreSQL primary + streaming replica, Redis) under var/cluster,
# with the demo city, on http://127.0.0.1:$(CLUSTER_PORT). See docs/scaling.md.
CLUSTER_PORT ?= 8080
cluster: install
	CLUSTER_PORT=$(CLUSTER_PORT) CLUSTER_DEMO=1 ./scripts/cluster.sh start var/cluster

cluster-stop:
	CLUSTER_PORT=$(CLUSTER_PORT) ./scripts/cluster.sh stop var/cluster

bench: install
	$(BIN)/uv sync --locked --inexact --quiet --extra test
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

# Upgrade the locked versions (then run `make test` and commit uv.lock).
lock: | $(BIN)/uv
	$(BIN)/uv lock --upgrade

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache tests/artifacts
