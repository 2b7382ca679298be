# The two commands of the quick start: `make run` and `make test`.
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTHON ?= python3
DEV_ENV := REFERRAL_ENV=development REFERRAL_SESSION_COOKIE_SECURE=false

.PHONY: run test install lint check test-sqlite test-postgresql clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Create the environment, migrate the SQLite database, load demo data once, serve.
run: $(STAMP)
	$(DEV_ENV) $(BIN)/referral db upgrade
	$(DEV_ENV) $(BIN)/referral demo --if-empty
	$(DEV_ENV) $(BIN)/referral run --host 127.0.0.1 --port 5000

## Static checks, then the suite on SQLite (with the browser tests), then on PostgreSQL
## when REFERRAL_TEST_DATABASE_URL is set.
test: $(STAMP) check test-sqlite test-postgresql

check: $(STAMP)
	$(BIN)/ruff check referral tests migrations $(wildcard bench)
	$(BIN)/ruff format --check referral tests $(wildcard bench)
	$(BIN)/mypy
	$(BIN)/lint-imports

test-sqlite: $(STAMP)
	$(BIN)/pytest --db sqlite

test-postgresql: $(STAMP)
	@if [ -n "$$REFERRAL_TEST_DATABASE_URL" ]; then \
		$(BIN)/pytest --db postgresql -m "not browser"; \
	else \
		echo "REFERRAL_TEST_DATABASE_URL is not set: PostgreSQL run skipped."; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-output
