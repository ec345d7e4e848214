# The two commands of the README: `make demo` and `make test`. Each sets up the virtual environment it needs:
# the demo only the runtime dependencies (what it runs), the tests the development extras too (Spark, the API
# server, PostgreSQL driver, fuzzers: most of the download), on top of the same environment.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev
STAMP := $(DEV)

.PHONY: demo test lint setup clean bench audit

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME): pyproject.toml src/icpkit/_native.c | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUNTIME)

# the development extras include the runtime: a dev install also satisfies the demo
$(DEV): pyproject.toml src/icpkit/_native.c | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(DEV) $(RUNTIME)

setup: $(DEV)

demo: $(RUNTIME)
	$(BIN)/icpkit demo

# The test suite runs every engine for real: PostgreSQL and Chromium are installed (Debian packages) and started
# by the scripts below when missing; a test skipped for a missing service then fails instead of passing quietly.
test: $(STAMP)
	$(BIN)/ruff check src tests bench
	@for s in scripts/chromium.sh; do [ ! -x $$s ] || $$s >&2; done
	dsn=$$(scripts/postgres.sh) && \
	  ICPKIT_PG_DSN="$$dsn" ICPKIT_REQUIRE_SERVICES=1 $(BIN)/python -m pytest -n 2 -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

bench: $(STAMP)
	$(BIN)/python bench/ingest.py

# Known vulnerabilities in the pinned dependencies (needs the PyPI or OSV vulnerability service).
audit: $(STAMP)
	$(BIN)/python -m pip install --quiet "pip-audit>=2.7"
	$(BIN)/pip-audit --require-hashes --disable-pip -r requirements.lock

clean:
	rm -rf $(VENV) build dist *.egg-info src/*.egg-info
