# The two commands of the README: `make demo` and `make test`. Each sets up its own virtual environment.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint setup clean bench audit

$(STAMP): pyproject.toml src/icpkit/_native.c
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
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
