# MedExchange — two commands: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS := -m "not browser" --ignore=tests/e2e -p no:cacheprovider

.PHONY: demo test test-browser lint messages install install-dev install-browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

$(VENV)/.installed-browser: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev,browser]'
	touch $@ $(VENV)/.installed-dev $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev
install-browser: $(VENV)/.installed-browser

messages: $(VENV)/.installed
	$(BIN)/python scripts/compile_messages.py

demo: install messages
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py load_demo --seed 1 --reset
	$(BIN)/python manage.py runserver 127.0.0.1:8000

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	env -u DATABASE_URL $(BIN)/python manage.py makemigrations --check --dry-run

# The whole suite on SQLite, then again on PostgreSQL when DATABASE_URL is set.
test: lint messages
	env -u DATABASE_URL $(BIN)/pytest $(PYTEST_ARGS)
	@if [ -n "$$DATABASE_URL" ]; then \
		echo "--- again on $$DATABASE_URL"; \
		$(BIN)/pytest $(PYTEST_ARGS); \
	fi

# Real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright.
test-browser: install-browser messages
	env -u DATABASE_URL $(BIN)/pytest -m browser -p no:cacheprovider tests/e2e

clean:
	rm -rf $(VENV) var
