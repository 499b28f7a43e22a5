# The two commands of the README: `make run` and `make test`. Each sets itself up.
# The first interpreter found that really runs and is 3.11+ (pyenv shims may exist but fail).
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { command -v $$p; break; }; done)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test bench lint install clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "flowbot needs Python 3.11 or newer on PATH"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/flowbot db migrate
	$(BIN)/flowbot catalog import --if-empty plugins/catalog/demo_catalog.csv
	$(BIN)/flowbot serve

test: install
	$(BIN)/python -m pytest

bench: install
	@for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

lint: install
	$(BIN)/ruff check engine plugins tests benchmarks

clean:
	rm -rf $(VENV) var
