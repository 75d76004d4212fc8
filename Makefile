# Din plan. Quick start: `make chat` (terminal chat on SQLite) and `make test` (everything).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PO := $(wildcard locales/*/LC_MESSAGES/dinplan.po)
MO := $(PO:.po=.mo)
BABEL_KEYWORDS := --no-default-keywords -k "text:1c,2" -k "plural:1c,2,3" --add-comments NOTE:

.PHONY: chat test install catalogs catalogs-update lint typecheck system-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP)

# Compiled catalogs are build output: made from the .po files, never committed.
locales/%/LC_MESSAGES/dinplan.mo: locales/%/LC_MESSAGES/dinplan.po $(STAMP)
	$(BIN)/pybabel compile -D dinplan -d locales -l $*

catalogs: $(MO)

# After adding or changing a message in the code: refresh the template and both catalogs.
catalogs-update: $(STAMP)
	$(BIN)/pybabel extract -F pyproject.toml $(BABEL_KEYWORDS) --sort-by-file \
		--project "Din plan" --version 0.1 -o locales/dinplan.pot .
	$(BIN)/pybabel update -D dinplan -i locales/dinplan.pot -d locales --no-fuzzy-matching --ignore-obsolete

# `dinplan chat` migrates the embedded SQLite database itself before it starts.
chat: $(STAMP) catalogs
	$(BIN)/dinplan chat

# Debian packages the tests need (PostgreSQL, hunspell dictionaries, gettext, Node.js).
system-deps:
	bash .ci/system-deps

test: $(STAMP) catalogs system-deps
	$(BIN)/python -m pytest

# Speed and memory against their targets (bench/README.md); writes bench/RESULTS.md. Not part of
# `make test`. About 15 minutes on 2 cores at the issue's sizes (`python -m bench --quick`: 5);
# needs what `make system-deps` installs (PostgreSQL, Node.js); `python -m bench --help`.
.PHONY: bench
bench: $(STAMP) catalogs
	$(BIN)/python -m bench

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var .cache $(MO)
