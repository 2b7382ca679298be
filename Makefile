# The two commands of the quick start: `make run` and `make test`.
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTHON ?= python3
DEV_ENV := REFERRAL_ENV=development REFERRAL_SESSION_COOKIE_SECURE=false
# `make run PORT=8080` when 5000 is taken; HOST=0.0.0.0 to reach it from another machine.
PORT ?= 5000
HOST ?= 127.0.0.1
CHROMIUM := /usr/bin/chromium

PO_FILES := $(wildcard referral/translations/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: run test install translations messages check browser-check test-sqlite test-postgresql clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) translations

## Compile the French and Arabic catalogues (the .mo files are build output, not committed).
translations: $(MO_FILES)

referral/translations/%/LC_MESSAGES/messages.mo: referral/translations/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile --statistics -i $< -o $@

## Extract the strings and update every catalogue (run after changing user-facing text).
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -o referral/translations/messages.pot .
	$(BIN)/pybabel update -i referral/translations/messages.pot -d referral/translations --no-fuzzy-matching --ignore-obsolete

## Create the environment, migrate the SQLite database, load demo data once, serve.
run: $(STAMP) translations
	$(DEV_ENV) $(BIN)/referral db upgrade
	$(DEV_ENV) $(BIN)/referral demo --if-empty
	$(DEV_ENV) $(BIN)/referral run --host $(HOST) --port $(PORT)

## Static checks, then the suite on SQLite (with the browser tests), then on PostgreSQL
## when REFERRAL_TEST_DATABASE_URL is set.
test: $(STAMP) translations check test-sqlite test-postgresql

check: $(STAMP)
	$(BIN)/ruff check referral tests migrations $(wildcard bench)
	$(BIN)/ruff format --check referral tests $(wildcard bench)
	$(BIN)/mypy
	$(BIN)/lint-imports

## The browser tests need Debian's Chromium: without it the run stops here and says how to
## get it, unless REFERRAL_SKIP_BROWSER_TESTS=1 (they are then reported as skipped).
browser-check:
	@if [ ! -x $(CHROMIUM) ] && [ "$$REFERRAL_SKIP_BROWSER_TESTS" != "1" ]; then \
		echo "$(CHROMIUM) is missing: the browser tests need it."; \
		echo "  Debian/Ubuntu: sudo apt-get install chromium   (.ci/run installs it)"; \
		echo "  or skip them: REFERRAL_SKIP_BROWSER_TESTS=1 make test"; \
		exit 1; \
	fi

test-sqlite: $(STAMP) translations browser-check
	$(BIN)/pytest --db sqlite

test-postgresql: $(STAMP) translations
	@if [ -n "$$REFERRAL_TEST_DATABASE_URL" ]; then \
		$(BIN)/pytest --db postgresql -m "not browser"; \
	else \
		echo "REFERRAL_TEST_DATABASE_URL is not set: PostgreSQL run skipped."; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-output
